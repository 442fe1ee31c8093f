/**
 * Imported first by the snapshot entry (snapshot.ts). A V8 startup snapshot cannot hold objects backed by native state, so while it is
 * built, Intl.Segmenter (effect/cli creates one when its module loads) is a stand-in that makes
 * the real segmenter on first use, after the snapshot has been deserialised.
 */
import * as v8 from "node:v8"

if (v8.startupSnapshot.isBuildingSnapshot()) {
  const Real = Intl.Segmenter
  class LazySegmenter {
    readonly #args: ConstructorParameters<typeof Intl.Segmenter>
    #real: Intl.Segmenter | undefined
    constructor(...args: ConstructorParameters<typeof Intl.Segmenter>) {
      this.#args = args
    }
    #get(): Intl.Segmenter {
      return this.#real ??= new Real(...this.#args)
    }
    segment(input: string): Intl.Segments {
      return this.#get().segment(input)
    }
    resolvedOptions(): Intl.ResolvedSegmenterOptions {
      return this.#get().resolvedOptions()
    }
  }
  Object.defineProperty(Intl, "Segmenter", { value: LazySegmenter, configurable: true, writable: true })
  v8.startupSnapshot.addDeserializeCallback(() => {
    Object.defineProperty(Intl, "Segmenter", { value: Real, configurable: true, writable: true })
  })
}
