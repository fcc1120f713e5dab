import { Module } from '@nestjs/common';
import { FeedbackController } from '../commands/record-anomaly-feedback/feedback.controller.js';
import { RecordAnomalyFeedbackHandler } from '../commands/record-anomaly-feedback/record-anomaly-feedback.handler.js';
import { PromoteController } from '../commands/promote-model-version/promote.controller.js';
import { PromoteModelVersionHandler } from '../commands/promote-model-version/promote-model-version.handler.js';
import { AnomalyController } from '../queries/anomalies/anomaly.controller.js';
import { GetAnomalyHandler } from '../queries/anomalies/get-anomaly.handler.js';
import { CompareModelsHandler } from '../queries/models/compare-models.handler.js';
import { ListModelsHandler } from '../queries/models/list-models.handler.js';
import { ModelsController } from '../queries/models/models.controller.js';
import { LiveStreamService } from '../queries/stream/live-stream.service.js';
import { StreamController } from '../queries/stream/stream.controller.js';
import { AnomalySwimlaneController } from '../queries/swimlane/anomaly-swimlane.controller.js';
import { GetAnomalySwimlaneHandler } from '../queries/swimlane/get-anomaly-swimlane.handler.js';
import { GetSensorCurvesHandler } from '../queries/sensor-curves/get-sensor-curves.handler.js';
import { SensorCurvesController } from '../queries/sensor-curves/sensor-curves.controller.js';
import { ReadSideModule } from '../read-side/read-side.module.js';

/** The API the operator console needs (issue #16): anomaly detail and feedback, the swimlane, sensor curves, model versions, the live stream. */
@Module({
  imports: [ReadSideModule],
  controllers: [AnomalyController, FeedbackController, ModelsController, PromoteController, StreamController, AnomalySwimlaneController, SensorCurvesController],
  providers: [GetAnomalyHandler, RecordAnomalyFeedbackHandler, ListModelsHandler, CompareModelsHandler, PromoteModelVersionHandler, LiveStreamService, GetAnomalySwimlaneHandler, GetSensorCurvesHandler],
})
export class ConsoleModule {}
