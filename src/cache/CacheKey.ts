/**
 * Cache keys: sha256 over canonical JSON (object keys sorted, no whitespace) of the engine and
 * codec versions, a stage's name, code version, params, salt and named upstream keys. Pure and
 * deterministic across processes, so the same inputs always land on the same cache entry; a
 * change to how values are encoded or how keys are formed (the salts) gives every entry a new key.
 */
import { createHash } from "node:crypto"
import { CODEC_VERSION } from "./Codec.ts"

/** Bump when the way keys are formed, or what the engine stores for a stage, changes for every stage. */
export const ENGINE_VERSION = "2"

/** JSON with object keys sorted recursively; rejects values JSON cannot represent exactly. */
export const canonicalJson = (value: unknown): string => {
  const walk = (v: unknown, path: string): string => {
    if (v === null) return "null"
    switch (typeof v) {
      case "string":
      case "boolean":
        return JSON.stringify(v)
      case "number":
        if (!Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number at ${path || "<root>"}`)
        return JSON.stringify(v)
      case "object": {
        if (Array.isArray(v)) return `[${v.map((x, i) => walk(x, `${path}[${i}]`)).join(",")}]`
        const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort()
        return `{${keys.map((k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k], `${path}.${k}`)}`).join(",")}}`
      }
      default:
        throw new Error(`canonicalJson: cannot hash a ${typeof v} at ${path || "<root>"}`)
    }
  }
  return walk(value, "")
}

/** Hex sha256 of a string or bytes. */
export const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** What a stage key is computed from. */
export interface KeyInputs {
  readonly stage: string
  readonly version: string
  readonly params: unknown
  /** Upstream keys by input name (a list where the input is a list: its order is kept). */
  readonly inputs: Readonly<Record<string, string | ReadonlyArray<string>>>
  /** Extra key material (a source file's content digest). */
  readonly salt?: unknown
}

/** The cache key of a stage invocation; throws (naming the path) when the params cannot be hashed exactly. */
export const stageKey = (k: KeyInputs): string =>
  sha256(canonicalJson({
    engine: ENGINE_VERSION,
    codec: CODEC_VERSION,
    stage: k.stage,
    version: k.version,
    params: k.params,
    inputs: k.inputs,
    ...(k.salt === undefined ? {} : { salt: k.salt })
  }))
