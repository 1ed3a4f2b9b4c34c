// Original file: proto/ambit/v1/destination.proto


/**
 * Ambit extension (annotation ambit.dev/retry-budget): retries as a share of active requests.
 */
export interface RetryBudget {
  'budgetPercent'?: (number | string);
  'minRetryConcurrency'?: (number);
}

/**
 * Ambit extension (annotation ambit.dev/retry-budget): retries as a share of active requests.
 */
export interface RetryBudget__Output {
  'budgetPercent': (number);
  'minRetryConcurrency': (number);
}
