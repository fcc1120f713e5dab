import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { unknownSystemResponse } from '../known-system.js';
import { systemIdParam } from '../system-id.param.js';
import { systemPathParams } from '../trend/anomaly-trend.controller.js';
import { GetSensorCurvesQuery, resolveCurveParams, sensorCurves, sensorCurvesQuery, type SensorCurves } from './get-sensor-curves.query.js';

@Controller('api/v1/systems/:id/sensor-curves')
export class SensorCurvesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: "One equipment's sensor curves, downsampled to a chart's width",
    description:
      'From the sensor_readings read model: every sensor of the equipment in one answer, the range cut into `points` buckets with the lowest and highest value of each (what a chart of that many pixels can show). Buckets without any sample are left out.',
    tags: ['systems'],
    operationId: 'getSensorCurves',
    params: systemPathParams,
    query: sensorCurvesQuery,
    responses: {
      404: unknownSystemResponse,
      200: {
        schema: sensorCurves,
        examples: {
          window: {
            system_id: 'rig-1',
            equipment_id: 'press-7',
            from: '2024-05-01T10:00:00.000Z',
            to: '2024-05-01T10:00:03.000Z',
            bucket_ms: 1000,
            t: [1714557600000, 1714557601000, 1714557602000],
            sensors: [{ sensor_id: 'PS1', unit: 'bar', min: [150.9, 151.1, null], max: [151.4, 151.3, null] }],
          },
        },
      },
    },
  })
  get(@Param('id') id: string, @Query() query: unknown): Promise<SensorCurves> {
    const params = resolveCurveParams(parseRequest(sensorCurvesQuery, query, 'query'));
    return this.queries.execute(new GetSensorCurvesQuery(parseRequest(systemIdParam, id, 'path'), params));
  }
}
