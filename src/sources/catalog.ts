/**
 * Upstream archives for the 16 LogHub systems: the full datasets on Zenodo (record 8196385,
 * "Loghub: A Large Collection of System Log Datasets for AI-driven Log Analytics") and the 2k
 * samples under the data root. Presets name an entry here; `fetchSource` (Fetch.ts) brings it
 * to disk. Nothing in this file was checked against the live record from this machine.
 */
import type { Checksum } from "./Download.ts"

/** Something `fetchSource` can bring to disk: a file name, where to get it, what it must hash to. */
export interface SourceArchive {
  /** File name in the record, in the cache and in a mirror folder. */
  readonly name: string
  readonly url: string
  /** Preferred checksum (hex). */
  readonly sha256: string | undefined
  /** What Zenodo publishes (hex); used when `sha256` is unknown. */
  readonly md5: string | undefined
}

export type LoghubSystem =
  | "Android" | "Apache" | "BGL" | "HDFS" | "HPC" | "Hadoop" | "HealthApp" | "Linux"
  | "Mac" | "OpenSSH" | "OpenStack" | "Proxifier" | "Spark" | "Thunderbird" | "Windows" | "Zookeeper"

export interface CatalogEntry extends SourceArchive {
  readonly system: LoghubSystem
  /** The 2,000-line sample, relative to the data root (served locally, never downloaded). */
  readonly sample: string
}

export const LOGHUB_RECORD = "8196385"

/** The checksum to verify against: sha256 when known, else md5, else none (unverified). */
export const archiveChecksum = (a: SourceArchive): Checksum | undefined =>
  a.sha256 !== undefined
    ? { kind: "sha256", hex: a.sha256 }
    : a.md5 !== undefined
    ? { kind: "md5", hex: a.md5 }
    : undefined

// Provenance of the values below (read this before trusting them):
// - File names: the record's file listing as reproduced in public third-party download scripts
//   (one archive per system; some are .zip, some .tar.gz; OpenSSH's archive is SSH.tar.gz).
//   Not checked against https://zenodo.org/api/records/8196385/files from this machine.
// - sha256: checksum not verified offline; fill in from the record's md5 or a first download
//   (`fetchSource` reports both digests of every download it makes).
// - md5: only where public third-party code that downloads this record quotes one (HDFS_v1,
//   BGL, Thunderbird, Windows); not verified here. A wrong value fails loudly with both digests.
// The record also holds Android_v2.zip, HDFS_v2.zip and HDFS_v3_TraceBench.zip (other variants,
// no 2k sample); add them here when a preset needs them.
const zenodo = (system: LoghubSystem, name: string, md5?: string): CatalogEntry => ({
  system,
  name,
  url: `https://zenodo.org/records/${LOGHUB_RECORD}/files/${name}?download=1`,
  sha256: undefined, // checksum not verified offline; fill in from the record's md5 or a first download
  md5,
  sample: `loghub-2k/${system}/${system}_2k.log`
})

/** One entry per LogHub system, in the order of the LogHub README. */
export const loghubCatalog: ReadonlyArray<CatalogEntry> = [
  zenodo("HDFS", "HDFS_v1.zip", "76a24b4d9a6164d543fb275f89773260"),
  zenodo("Hadoop", "Hadoop.zip"),
  zenodo("Spark", "Spark.tar.gz"),
  zenodo("Zookeeper", "Zookeeper.tar.gz"),
  zenodo("BGL", "BGL.zip", "4452953c470f2d95fcb32d5f6e733f7a"),
  zenodo("HPC", "HPC.zip"),
  zenodo("Thunderbird", "Thunderbird.tar.gz", "0891b048df2919dc78c99c4428686b44"),
  zenodo("Windows", "Windows.tar.gz", "8b994d947d30617d51e2a565152ae90f"),
  zenodo("Linux", "Linux.tar.gz"),
  zenodo("Mac", "Mac.tar.gz"),
  zenodo("Android", "Android_v1.zip"),
  zenodo("HealthApp", "HealthApp.tar.gz"),
  zenodo("Apache", "Apache.tar.gz"),
  zenodo("OpenSSH", "SSH.tar.gz"),
  zenodo("OpenStack", "OpenStack.tar.gz"),
  zenodo("Proxifier", "Proxifier.tar.gz")
]

/** The catalog entry of a system. */
export const catalogEntry = (system: LoghubSystem): CatalogEntry => {
  const found = loghubCatalog.find((e) => e.system === system)
  if (found === undefined) throw new Error(`no catalog entry for ${system}`)
  return found
}
