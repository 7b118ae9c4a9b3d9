// Jest globalSetup of the end-to-end tier: most of its suites run the committed bundles in dist/,
// so a dist/ not rebuilt since src/ changed would have them test old code and pass.
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { assertDistFresh } from '../../scripts/source-hash.mjs'

export default function e2eSetup() {
  assertDistFresh(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'))
}
