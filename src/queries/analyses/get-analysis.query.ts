export class GetAnalysisQuery {
  constructor(readonly analysisId: string) {}
}
