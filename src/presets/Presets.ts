/**
 * Presets for the 16 LogHub systems: everything needed to parse and mine one system's logs
 * (format, line handling, timestamp, entity, labels from `formats.ts`; miner settings from
 * `miners.ts`). Look one up by name with `getPreset` (case-insensitive); an unknown name is an
 * error that lists the known ones.
 */
import type { DrainOptions } from "../mining/Drain.ts"
import { type FormatPreset, formatPresets, type System, SYSTEMS } from "./formats.ts"
import { minerPreset } from "./miners.ts"

export { type EntityRule, type LabelRule, type System, SYSTEMS } from "./formats.ts"

/** One system's preset: the format side plus the miner settings. */
export interface Preset extends FormatPreset {
  readonly name: System
  /** Drain options for `new Drain` / `mineTemplates` (see `miners.ts`). */
  readonly miner: DrainOptions
}

/** The 16 preset names, in the order of the loghub/logparser tables. */
export const PRESET_NAMES: ReadonlyArray<System> = SYSTEMS

/** Every preset by system name. */
export const presets: Readonly<Record<System, Preset>> = Object.fromEntries(
  SYSTEMS.map((name) => [name, { name, ...formatPresets[name], miner: minerPreset(name) }])
) as Record<System, Preset>

/** The preset called `name` (case-insensitive); throws listing the known names when there is none. */
export const getPreset = (name: string): Preset => {
  const wanted = name.trim().toLowerCase()
  const found = SYSTEMS.find((s) => s.toLowerCase() === wanted)
  if (found === undefined) {
    throw new Error(`Unknown preset ${JSON.stringify(name)}; the presets are: ${SYSTEMS.join(", ")} (names are case-insensitive)`)
  }
  return presets[found]
}
