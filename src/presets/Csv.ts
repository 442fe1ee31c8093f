/**
 * RFC 4180 CSV as LogHub's files use it: a cell is quoted when it holds a comma, a quote, CR or
 * LF (pandas' `to_csv` default), with `""` for a quote inside. `csvCell` writes one cell,
 * `parseCsv` reads a whole text back (quoted cells may span lines; CRLF rows are accepted).
 */

/** One cell, quoted only when it must be. */
export const csvCell = (value: string): string => (NEEDS_QUOTES.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value)

/** Every row of a CSV text as arrays of cells; a final newline does not start a row. */
export const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let cell = ""
  let quoted = false
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let start = i
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (quoted) {
      if (c !== QUOTE) continue
      if (text.charCodeAt(i + 1) === QUOTE) {
        cell += text.slice(start, i + 1)
        start = i + 2
        i++
      } else {
        cell += text.slice(start, i)
        start = i + 1
        quoted = false
      }
    } else if (c === QUOTE) {
      cell += text.slice(start, i)
      start = i + 1
      quoted = true
    } else if (c === COMMA) {
      row.push(cell + text.slice(start, i))
      cell = ""
      start = i + 1
    } else if (c === LF) {
      const end = i > start && text.charCodeAt(i - 1) === CR ? i - 1 : i
      row.push(cell + text.slice(start, end))
      rows.push(row)
      row = []
      cell = ""
      start = i + 1
    }
  }
  if (quoted) throw new Error("parseCsv: unterminated quoted cell at the end of the text")
  if (start < text.length || cell !== "" || row.length > 0) rows.push([...row, cell + text.slice(start)])
  return rows
}

/** The named column of a CSV with a header row; throws on a missing column or a ragged row. */
export const csvColumn = (rows: ReadonlyArray<ReadonlyArray<string>>, name: string): Array<string> => {
  const header = rows[0] ?? []
  const k = header.indexOf(name)
  if (k < 0) throw new Error(`csvColumn: no column ${JSON.stringify(name)} (columns: ${header.join(", ")})`)
  return rows.slice(1).map((r, i) => {
    if (r.length !== header.length) throw new Error(`csvColumn: row ${i + 2} has ${r.length} cells, the header ${header.length}`)
    return r[k]!
  })
}

const NEEDS_QUOTES = /[",\r\n]/
const QUOTE = 34
const COMMA = 44
const LF = 10
const CR = 13
