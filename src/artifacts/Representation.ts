/**
 * A representation of a dataset's split sequences built by the represent stage (event columns,
 * count vectors, n-grams, parameter matrices, elapsed times): its kind, value and shape.
 */

/** The representation kinds (config spelling). */
export type RepresentationKind = "event_sequences" | "count_vectors" | "ngrams" | "parameters" | "elapsed_time"

/** A representation and its shape (the represent stage's output). */
export interface Representation {
  readonly kind: RepresentationKind
  readonly value: unknown
  readonly shape: Readonly<Record<string, number>>
}
