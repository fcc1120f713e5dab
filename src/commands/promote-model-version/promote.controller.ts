import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { requestContext } from '../../http/request-context.js';
import { PromoteModelVersionCommand, promoteBody, promoteParams, promoteResult, type PromoteResult } from './promote-model-version.command.js';

@Controller('api/v1/models/:version/promote')
export class PromoteController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @RequireScope('admin')
  @ApiOperation({
    summary: 'Promote a model version',
    description: 'Appends ModelVersionPromoted (stream `models`); the inference saga scores new windows with it. Promoting the promoted version again records nothing.',
    tags: ['models'],
    operationId: 'promoteModelVersion',
    params: promoteParams,
    body: promoteBody,
    responses: {
      200: { schema: promoteResult, examples: { promoted: { recorded: true, profile: 'hydraulic-17', model_version: 'hydraulic-17-1.1.0', previous_version: 'hydraulic-17-1.0.0' } } },
      404: problemResponse('The version is not in the registry'),
    },
  })
  promote(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest): Promise<PromoteResult> {
    const { version } = parseRequest(promoteParams, params, 'path');
    const { reason } = parseRequest(promoteBody, body ?? {}, 'body');
    return this.commands.execute(new PromoteModelVersionCommand(version, reason, requestContext(request)));
  }
}
