/**
 * Synthetic syslog-style logs with labelled injected anomalies (`flow gen-synth`), for testing a
 * detector end to end without real incidents. Normal traffic interleaves a few services' sessions
 * (an SSH login opening and closing its PAM session, cron jobs, a web worker's request cycle, kernel
 * link events), each a fixed sequence of templates with varying users, addresses, ports and pids.
 * Anomalies are injected as whole episodes of four kinds: `unseen_template` (a line of a template
 * normal traffic never has), `error_burst` (a run of error lines), `template_burst` (one normal
 * template repeated many times in a row) and `broken_sequence` (a session whose lines come out of
 * order or stop halfway). Every line of an episode is labelled with its kind. Lines read with the
 * Linux preset's format (`<Month> <Date> <Time> <Level> <Component>[<PID>]: <Content>`, the host in
 * `Level`). Deterministic: the same options give the same bytes.
 */
import { mulberry32 } from "../artifacts/Random.ts"

export interface SynthOptions {
  readonly lines: number
  /** Share of lines (about) that belong to injected anomalies, in [0, 0.5]. */
  readonly anomalyRate: number
  readonly seed: number
}

export type AnomalyKind = "unseen_template" | "error_burst" | "template_burst" | "broken_sequence"

export const ANOMALY_KINDS: ReadonlyArray<AnomalyKind> = ["unseen_template", "error_burst", "template_burst", "broken_sequence"]

export interface SynthLog {
  readonly lines: ReadonlyArray<string>
  /** Per line: null (normal) or the kind of the anomaly episode it belongs to. */
  readonly labels: ReadonlyArray<AnomalyKind | null>
}

/** The options' problems, each naming its option; empty when fine. */
export const synthProblems = (o: SynthOptions): Array<string> => [
  ...(Number.isInteger(o.lines) && o.lines >= 1 && o.lines <= 100_000_000 ? [] : [`--lines must be an integer from 1 to 100000000, got ${o.lines}`]),
  ...(o.anomalyRate >= 0 && o.anomalyRate <= 0.5 ? [] : [`--anomaly-rate must be a number from 0 to 0.5, got ${o.anomalyRate}`]),
  ...(Number.isInteger(o.seed) ? [] : [`--seed must be an integer, got ${o.seed}`])
]

/** Mean lines of a normal session ((4 + 3 + 3 + 1) / 4) and of an anomaly episode ((2 + 10.5 + 17.5 + 13/6) / 4). */
const NORMAL_LINES = 2.75
const EPISODE_LINES = (2 + 10.5 + 17.5 + 13 / 6) / 4

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** One log line to be: service, content. */
interface Event {
  readonly component: string
  readonly content: string
}

/** Generate the log. Throws on bad options (see `synthProblems`). */
export const generateSynth = (o: SynthOptions): SynthLog => {
  const problems = synthProblems(o)
  if (problems.length > 0) throw new Error(problems.join("; "))
  const random = mulberry32(o.seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]!
  const user = () => pick(["alice", "bob", "carol", "dave", "erin", "frank", "root", "deploy"])
  const ip = () => `10.${int(4)}.${int(256)}.${1 + int(254)}`
  const path = () => pick(["/", "/index.html", "/api/v1/items", "/api/v1/orders", "/static/app.js", "/health"])

  // Normal sessions: fixed template sequences with varying fields.
  const sessions: ReadonlyArray<() => Array<Event>> = [
    () => {
      const u = user()
      const a = ip()
      return [
        { component: "sshd", content: `Accepted password for ${u} from ${a} port ${1024 + int(60000)} ssh2` },
        { component: "sshd", content: `pam_unix(sshd:session): session opened for user ${u} by (uid=0)` },
        { component: "sshd", content: `Received disconnect from ${a}: 11: disconnected by user` },
        { component: "sshd", content: `pam_unix(sshd:session): session closed for user ${u}` }
      ]
    },
    () => [
      { component: "CRON", content: `pam_unix(cron:session): session opened for user root by (uid=0)` },
      { component: "CRON", content: `(root) CMD (run-parts /etc/cron.${pick(["hourly", "daily"])})` },
      { component: "CRON", content: `pam_unix(cron:session): session closed for user root` }
    ],
    () => {
      const p = path()
      return [
        { component: "nginx", content: `GET ${p} HTTP/1.1 from ${ip()}` },
        { component: "app", content: `handled request ${p} in ${1 + int(400)} ms` },
        { component: "nginx", content: `200 ${100 + int(90000)} bytes sent` }
      ]
    },
    () => [{ component: "kernel", content: `eth${int(2)}: link ${pick(["up", "up, 1000Mbps, full-duplex"])}` }]
  ]
  // Templates normal traffic never has.
  const unseen: ReadonlyArray<() => Event> = [
    () => ({ component: "kernel", content: `Out of memory: Killed process ${1000 + int(30000)} (java) total-vm:${1 + int(9000000)}kB` }),
    () => ({ component: "kernel", content: `EXT4-fs error (device sda${1 + int(3)}): htree_dirblock_to_tree: bad entry in directory` }),
    () => ({ component: "sshd", content: `Invalid user ${pick(["admin", "test", "oracle", "guest"])} from ${ip()} port ${1024 + int(60000)}` })
  ]
  const errors: ReadonlyArray<() => Event> = [
    () => ({ component: "app", content: `ERROR database connection to 10.0.0.${1 + int(9)}:5432 refused` }),
    () => ({ component: "nginx", content: `upstream timed out while reading response header from ${ip()}` }),
    () => ({ component: "app", content: `ERROR request ${path()} failed: status 503` })
  ]

  const lines: Array<string> = []
  const labels: Array<AnomalyKind | null> = []
  let time = Date.UTC(2026, 0, 1, 0, 0, 0) + int(86_400_000)
  const host = `host${String(1 + int(9)).padStart(2, "0")}`
  const emit = (e: Event, label: AnomalyKind | null) => {
    if (lines.length >= o.lines) return
    time += 200 + int(3000)
    const d = new Date(time)
    const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${[d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].map((x) => String(x).padStart(2, "0")).join(":")}`
    lines.push(`${stamp} ${host} ${e.component}[${100 + int(32000)}]: ${e.content}`)
    labels.push(label)
  }
  // An episode starts with the chance that makes about `anomalyRate` of lines anomalous: episodes
  // average EPISODE_LINES lines (the four kinds' mean sizes), normal sessions NORMAL_LINES.
  const r = o.anomalyRate
  const episodeChance = (NORMAL_LINES * r) / (EPISODE_LINES * (1 - r) + NORMAL_LINES * r)
  while (lines.length < o.lines) {
    if (o.anomalyRate > 0 && random() < episodeChance) {
      const kind = pick(ANOMALY_KINDS)
      if (kind === "unseen_template") {
        const n = 1 + int(3)
        for (let i = 0; i < n; i++) emit(pick(unseen)(), kind)
      } else if (kind === "error_burst") {
        const n = 6 + int(10)
        for (let i = 0; i < n; i++) emit(pick(errors)(), kind)
      } else if (kind === "template_burst") {
        const n = 12 + int(12)
        const session = pick(sessions)()
        const e = session[int(session.length)]!
        for (let i = 0; i < n; i++) emit(e, kind)
      } else {
        // A multi-line session reversed, or cut after its first line.
        const session = pick(sessions.slice(0, 3))()
        if (random() < 0.5) for (const e of [...session].reverse()) emit(e, kind)
        else emit(session[0]!, kind)
      }
      continue
    }
    for (const e of pick(sessions)()) emit(e, null)
  }
  return { lines, labels }
}

/** The labels as CSV beside the log: LineId (1-based), Label (`-` normal, else `anomaly`), Kind. */
export const synthLabelsCsv = (log: SynthLog): string =>
  ["LineId,Label,Kind", ...log.labels.map((k, i) => `${i + 1},${k === null ? "-" : "anomaly"},${k ?? ""}`)].join("\n") + "\n"
