// Rewrites README.md's Inputs and Outputs tables from action.yml (one row per entry, in
// action.yml's order), formatted as prettier formats them. The workflows test checks the tables
// against action.yml; run this after changing action.yml: node scripts/readme-tables.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import { parse } from 'yaml'
import prettier from 'prettier'

const action = parse(readFileSync('action.yml', 'utf8'))
const cell = (text) => String(text).replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')
const code = (text) => (text === '' ? '' : `\`${text}\``)

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)
  ].join('\n')
}

function replaceTable(markdown, heading, newTable) {
  const lines = markdown.split('\n')
  let i = lines.indexOf(`## ${heading}`)
  if (i < 0) throw new Error(`README.md has no "## ${heading}" section`)
  while (!lines[i].startsWith('|')) i++
  let end = i
  while (lines[end]?.startsWith('|')) end++
  lines.splice(i, end - i, ...newTable.split('\n'))
  return lines.join('\n')
}

let readme = readFileSync('README.md', 'utf8')
readme = replaceTable(
  readme,
  'Inputs',
  table(
    ['Input', 'Default', 'Description'],
    Object.entries(action.inputs).map(([name, input]) => [
      code(name),
      code(String(input.default ?? '')),
      input.description
    ])
  )
)
readme = replaceTable(
  readme,
  'Outputs',
  table(
    ['Output', 'Description'],
    Object.entries(action.outputs).map(([name, output]) => [code(name), output.description])
  )
)
// with the project's prettier settings, so that `npm run format:check` accepts the result
const settings = (await prettier.resolveConfig('README.md')) ?? {}
writeFileSync('README.md', await prettier.format(readme, { ...settings, filepath: 'README.md' }))
