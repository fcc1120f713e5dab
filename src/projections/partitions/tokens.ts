/** The deployment's partition count (a number), resolved once at start-up from projection_partitioning. */
export const PARTITION_COUNT = Symbol('PARTITION_COUNT');
