import type { DetectBody } from './detect.schema.js';

export class DetectQuery {
  constructor(readonly body: DetectBody) {}
}
