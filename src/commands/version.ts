import {BaseCommand} from '../lib/cli/base.js'

export default class Version extends BaseCommand<typeof Version> {
  static override description = "mm's version, Node's version and the platform (same as mm --version)"
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  async run(): Promise<{version: string; nodejs: string; platform: string}> {
    const v = {version: this.config.version, nodejs: process.versions.node, platform: `${process.platform}-${process.arch}`}
    this.log(`${this.config.name}/${v.version} ${v.platform} node-v${v.nodejs}`)
    return v
  }
}
