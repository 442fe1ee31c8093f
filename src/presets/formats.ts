/**
 * The format side of the 16 LogHub system presets: the log format (logparser's benchmark
 * formats), how each line is read, how a timestamp is built from header fields, where the
 * session entity is (HDFS block id, BGL node, OpenStack instance id) and which field holds
 * per-line labels. `Presets.ts` combines these with the miner settings. Wall-clock times are
 * read as UTC (LogHub gives no zone); years missing from a format are documented per system.
 */
import type { LineOptions } from "../parsing/LogFormat.ts"
import type { TimestampSpec } from "../parsing/Timestamp.ts"

/** The 16 LogHub systems, in the order of the loghub/logparser tables. */
export const SYSTEMS = [
  "HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Thunderbird", "Windows",
  "Linux", "Android", "HealthApp", "Apache", "Proxifier", "OpenSSH", "OpenStack", "Mac"
] as const
export type System = typeof SYSTEMS[number]

/** Where a line names the entity its session is keyed by. */
export type EntityRule =
  /** Every match of a regex over `<Content>` (the whole match is the id), as `groupByEntity` takes it. */
  | { readonly kind: "pattern"; readonly pattern: string; readonly note: string }
  /** The value of a header field. */
  | { readonly kind: "field"; readonly field: string; readonly note: string }

/** Per-line labels in a header field: `normalValue` is normal, anything else anomalous (`applyLineLabels`'s options). */
export interface LabelRule {
  readonly field: string
  readonly normalValue: string
}

/** The format side of one preset. */
export interface FormatPreset {
  /** LogHub-style format (see `compileFormat`); logparser's benchmark format for this system. */
  readonly format: string
  /** How lines are read: every preset trims them, as logparser's `line.strip()` does, so fields equal LogHub's CSVs. */
  readonly line: LineOptions
  /** How to build ms since the epoch from header fields; absent when the format has no time. */
  readonly timestamp?: TimestampSpec
  /** Why the timestamp rule is what it is (zone, missing year, precision). */
  readonly timestampNote: string
  readonly entity?: EntityRule
  readonly labels?: LabelRule
}

const LINE: LineOptions = { trim: true }

/** A lower-case RFC 4122 UUID, as OpenStack prints instance ids. */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

/**
 * Placeholder year for logs whose lines and LogHub README give no year (Android, Proxifier,
 * OpenSSH): a leap year, so that Feb 29 parses; only differences between times are meaningful.
 */
export const UNKNOWN_YEAR = 2000

/** Per system: format, line handling, timestamp, entity and labels. */
export const formatPresets: Readonly<Record<System, FormatPreset>> = {
  HDFS: {
    format: "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Date", pattern: "yyMMdd" }, { field: "Time", pattern: "HHmmss" }] },
    timestampNote: "Date yyMMdd + Time HHmmss (081109 203615 = 2008-11-09 20:36:15), whole seconds, read as UTC",
    entity: { kind: "pattern", pattern: "blk_-?\\d+", note: "HDFS block id; a line may name several blocks" }
  },
  Hadoop: {
    format: "<Date> <Time> <Level> \\[<Process>\\] <Component>: <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Date", pattern: "yyyy-MM-dd" }, { field: "Time", pattern: "HH:mm:ss,SSS" }] },
    timestampNote: "Date yyyy-MM-dd + Time HH:mm:ss,SSS, read as UTC"
  },
  Spark: {
    format: "<Date> <Time> <Level> <Component>: <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Date", pattern: "yy/MM/dd" }, { field: "Time", pattern: "HH:mm:ss" }] },
    timestampNote: "Date yy/MM/dd + Time HH:mm:ss (17/06/09 = 2017-06-09), read as UTC"
  },
  Zookeeper: {
    format: "<Date> <Time> - <Level>  \\[<Node>:<Component>@<Id>\\] - <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Date", pattern: "yyyy-MM-dd" }, { field: "Time", pattern: "HH:mm:ss,SSS" }] },
    timestampNote: "Date yyyy-MM-dd + Time HH:mm:ss,SSS, read as UTC"
  },
  BGL: {
    format: "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Timestamp", pattern: "epoch" }] },
    timestampNote:
      "Timestamp is seconds since the epoch (absolute). The Time field (2005-06-03-15.42.50.675872) has microseconds but is local time (UTC-7 in this log), so it is not used",
    entity: { kind: "field", field: "Node", note: "the reporting node (R02-M1-N0-C:J12-U11); some lines say NULL or UNKNOWN_LOCATION" },
    labels: { field: "Label", normalValue: "-" }
  },
  HPC: {
    format: "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Time", pattern: "epoch" }] },
    timestampNote: "Time is seconds since the epoch (1077804742 = 2004-02-26T14:12:22Z)",
    entity: { kind: "field", field: "Node", note: "the node (node-246); no labels in LogHub" }
  },
  Thunderbird: {
    format: "<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\\[<PID>\\])?: <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Timestamp", pattern: "epoch" }] },
    timestampNote: "Timestamp is seconds since the epoch (absolute); Month/Day/Time repeat it in local time",
    entity: { kind: "field", field: "User", note: "the reporting node (dn228); LogHub names this column User" },
    labels: { field: "Label", normalValue: "-" }
  },
  Windows: {
    format: "<Date> <Time>, <Level>                  <Component>    <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Date", pattern: "yyyy-MM-dd" }, { field: "Time", pattern: "HH:mm:ss" }] },
    timestampNote: "Date yyyy-MM-dd + Time HH:mm:ss, read as UTC"
  },
  Linux: {
    format: "<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>",
    line: LINE,
    timestamp: {
      parts: [{ field: "Month", pattern: "MMM" }, { field: "Date", pattern: "d" }, { field: "Time", pattern: "HH:mm:ss" }],
      assumeYear: 2005
    },
    timestampNote:
      "syslog time without a year: 2005 assumed (the messages themselves print 2005: 910 of the 2k sample's lines), rolling over to the next year when the time goes back; read as UTC"
  },
  Android: {
    format: "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    line: LINE,
    timestamp: {
      parts: [{ field: "Date", pattern: "MM-dd" }, { field: "Time", pattern: "HH:mm:ss.SSS" }],
      assumeYear: UNKNOWN_YEAR
    },
    timestampNote: `logcat time without a year: placeholder year ${UNKNOWN_YEAR} (no year in the log or its README), rolling over when the time goes back; read as UTC`
  },
  HealthApp: {
    format: "<Time>\\|<Component>\\|<Pid>\\|<Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Time", pattern: "yyyyMMdd-H:m:s:S" }] },
    timestampNote: "Time yyyyMMdd-H:m:s:S with unpadded seconds and milliseconds (20171223-22:32:0:95 = 22:32:00.095), read as UTC"
  },
  Apache: {
    format: "\\[<Time>\\] \\[<Level>\\] <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Time", pattern: "EEE MMM dd HH:mm:ss yyyy" }] },
    timestampNote: "Time 'Sun Dec 04 04:47:44 2005' (weekday ignored), read as UTC"
  },
  Proxifier: {
    format: "\\[<Time>\\] <Program> - <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Time", pattern: "MM.dd HH:mm:ss" }], assumeYear: UNKNOWN_YEAR },
    timestampNote: `Time MM.dd HH:mm:ss without a year: placeholder year ${UNKNOWN_YEAR}; the 2k sample goes from 10.30 to 07.27, which the rollover rule reads as October ${UNKNOWN_YEAR} then July ${UNKNOWN_YEAR + 1}; read as UTC`
  },
  OpenSSH: {
    format: "<Date> <Day> <Time> <Component> sshd\\[<Pid>\\]: <Content>",
    line: LINE,
    timestamp: {
      parts: [{ field: "Date", pattern: "MMM" }, { field: "Day", pattern: "d" }, { field: "Time", pattern: "HH:mm:ss" }],
      assumeYear: UNKNOWN_YEAR
    },
    timestampNote: `syslog time without a year (LogHub calls the month column Date): placeholder year ${UNKNOWN_YEAR}, rolling over when the time goes back; read as UTC`
  },
  OpenStack: {
    format: "<Logrecord> <Date> <Time> <Pid> <Level> <Component> \\[<ADDR>\\] <Content>",
    line: LINE,
    timestamp: { parts: [{ field: "Date", pattern: "yyyy-MM-dd" }, { field: "Time", pattern: "HH:mm:ss.SSS" }] },
    timestampNote: "Date yyyy-MM-dd + Time HH:mm:ss.SSS, read as UTC",
    entity: {
      kind: "pattern",
      pattern: `(?<=\\[instance: |/servers/|for instance )${UUID}`,
      note: "the VM instance id where the content names an instance: `[instance: ID]`, an API path `/servers/ID`, `... for instance ID`; request ids (req-...) sit in the ADDR field and other UUIDs (images, ports) are not instances"
    }
  },
  Mac: {
    format: "<Month>  <Date> <Time> <User> <Component>\\[<PID>\\]( \\(<Address>\\))?: <Content>",
    line: LINE,
    timestamp: {
      parts: [{ field: "Month", pattern: "MMM" }, { field: "Date", pattern: "d" }, { field: "Time", pattern: "HH:mm:ss" }],
      assumeYear: 2017
    },
    timestampNote:
      "syslog time without a year: 2017 assumed (the messages print 2017, 213 times in the 2k sample), rolling over when the time goes back; read as UTC"
  }
}
