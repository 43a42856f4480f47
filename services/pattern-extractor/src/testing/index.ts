export { labelledRequests } from './labelled-requests.ts';
export type {
  OutcomeStoreConformanceOptions,
  OutcomeStoreFixture,
} from './outcome-store-conformance.ts';
export { createOutcomeStoreConformanceSuite } from './outcome-store-conformance.ts';
