import type { DeferredJsonBody } from '../../http/deferred-json-body.js';
import type { DetectBody } from './detect.schema.js';

export class DetectQuery {
  /** a checked body, or the body's JSON still unparsed (the handler may hand it to the scoring worker) */
  constructor(readonly body: DetectBody | DeferredJsonBody) {}
}
