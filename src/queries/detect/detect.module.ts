import { Module } from '@nestjs/common';
import { InferenceSagaModule } from '../../inference/inference-saga.module.js';
import { DetectScoring } from './detect-scoring.js';
import { DetectController } from './detect.controller.js';
import { DetectHandler } from './detect.handler.js';

@Module({
  imports: [InferenceSagaModule],
  controllers: [DetectController],
  providers: [DetectHandler, DetectScoring],
})
export class DetectModule {}
