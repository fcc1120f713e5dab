import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { Public } from '../auth/require-scope.decorator.js';
import { ApiOperation } from './api-operation.decorator.js';
import { OpenApiDocumentService } from './openapi-document.service.js';

@Controller('openapi.json')
export class OpenApiController {
  constructor(private readonly documents: OpenApiDocumentService) {}

  @Get()
  @Public()
  @ApiOperation({
    summary: 'This OpenAPI 3.1 document',
    description: 'Generated at start-up from the zod schemas that validate each route. Interactive docs: /docs.',
    tags: ['operations'],
    operationId: 'getOpenApiDocument',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.object({ openapi: z.string() }).catchall(z.unknown()) } },
  })
  document() {
    return this.documents.document();
  }
}
