import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { CompareModelsQuery, compareModelsParams, modelComparison, type ModelComparison } from './compare-models.query.js';
import { ListModelsQuery, modelVersionList, type ModelVersionList } from './list-models.query.js';

@Controller('api/v1/models')
export class ModelsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Model versions in the registry',
    description:
      "Each version of models/manifest.json with its models and weights, the ensemble's cross-validation metrics and the false-positive rate operators' verdicts give per component; `active` is the version the inference saga scores with.",
    tags: ['models'],
    operationId: 'listModelVersions',
    responses: { 200: modelVersionList },
  })
  list(): Promise<ModelVersionList> {
    return this.queries.execute(new ListModelsQuery());
  }

  @Get('compare')
  @RequireScope('read')
  @ApiOperation({
    summary: 'Where two model versions disagree, per component',
    description: 'The JSON form of `models compare` (without labels). A version not in the registry is a 404.',
    tags: ['models'],
    operationId: 'compareModelVersions',
    query: compareModelsParams,
    responses: { 200: modelComparison, 404: problemResponse('A version is not in the registry') },
  })
  compare(@Query() query: unknown): Promise<ModelComparison> {
    return this.queries.execute(new CompareModelsQuery(parseRequest(compareModelsParams, query, 'query')));
  }
}
