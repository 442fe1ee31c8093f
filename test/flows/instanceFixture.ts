// A small registry over real OpenStack lines grouped by VM instance, with a SYNTHETIC label file:
// the log is loghub-2k/OpenStack/OpenStack_2k.log under the data root (22 instances named as
// `[instance: UUID]`), read where it is; the label CSV, keyed by the bare UUID, is written to a
// temp folder (read with outside_data_root) and marks three instances anomalous for the test's sake.
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { dataRoot } from "../cli/helpers.ts"

export const OPENSTACK_LOG = "loghub-2k/OpenStack/OpenStack_2k.log"

/** The entity pattern with the UUID as its capture group, and the same without the group (whole match), as TOML literal strings hold them. */
export const CAPTURED = "\\[instance: ([0-9a-f-]{36})\\]"
export const WHOLE = "\\[instance: [0-9a-f-]{36}\\]"

/** The instance UUIDs of the log, in order of first appearance. */
export const instanceIds = (): Array<string> => {
  const text = fs.readFileSync(path.join(dataRoot(), OPENSTACK_LOG), "utf8")
  return [...new Set([...text.matchAll(/\[instance: ([0-9a-f-]{36})\]/g)].map((m) => m[1]!))]
}

/** Synthetic labels: instances 2, 13 and 17 (0-based, by first appearance) anomalous, the rest normal. */
export const ANOMALOUS_AT = [2, 13, 17]

/**
 * A registry folder with one dataset `openstack` grouped by `pattern` and one experiment
 * `os-freq` (template_frequency), plus the label CSV; returns the registry file and the dataset file.
 */
export const instanceRegistry = (pattern: string): { readonly registry: string; readonly dataset: string; readonly labels: string } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "logflow-instances-"))
  fs.mkdirSync(path.join(dir, "datasets"))
  fs.mkdirSync(path.join(dir, "models"))
  const labels = path.join(dir, "instance_labels.csv")
  fs.writeFileSync(labels, `InstanceId,Label\n${instanceIds().map((id, i) => `${id},${ANOMALOUS_AT.includes(i) ? "Anomaly" : "Normal"}\n`).join("")}`)
  const dataset = path.join(dir, "datasets", "openstack.toml")
  fs.writeFileSync(dataset, [
    `description = "OpenStack_2k grouped by VM instance; SYNTHETIC instance labels"`,
    `[source]`,
    `path = "${OPENSTACK_LOG}"`,
    `[parser]`,
    `preset = "OpenStack"`,
    `[miner]`,
    `preset = "OpenStack"`,
    `[grouping]`,
    `type = "entity"`,
    `pattern = '${pattern}'`,
    `[labels]`,
    `type = "entity_csv"`,
    `source = { path = "${labels}", outside_data_root = true }`,
    `entity_column = "InstanceId"`,
    `label_column = "Label"`,
    `[split]`,
    `train_fraction = 0.5`,
    `train_on_normal_entities_only = true`,
    ""
  ].join("\n"))
  fs.writeFileSync(path.join(dir, "models", "template_frequency.toml"), `detector = "template_frequency"\nthreshold_quantile = 1.0\n`)
  const registry = path.join(dir, "registry.toml")
  fs.writeFileSync(registry, `[experiments.os-freq]\ndataset = "openstack"\nmodels = ["template_frequency"]\n\n[stages.label]\nretries = 2\nretry_delay_s = 0\n`)
  return { registry, dataset, labels }
}
