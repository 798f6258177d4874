import type { StoredToken, TokenAudit, TokenStore } from '../../core/ports.js';
import type { MemoryAuditTrail } from './audit-trail.js';
import { compareKeys, copy, transact, type Write } from './table.js';

/** API tokens in memory, with the audit event of each change in the same transaction. */
export class MemoryTokenStore implements TokenStore {
  private readonly tokens = new Map<string, StoredToken>();

  constructor(private readonly trail: MemoryAuditTrail) {}

  async saveToken(token: StoredToken, audit?: TokenAudit): Promise<void> {
    transact([
      {
        item: `token\n${token.id}`,
        holds: () => !this.tokens.has(token.id),
        apply: () => this.tokens.set(token.id, copy(token)),
      },
      ...this.audit(audit),
    ]);
  }

  async findToken(id: string): Promise<StoredToken | undefined> {
    const token = this.tokens.get(id);
    return token && copy(token);
  }

  /** The admin tokens, then the project's, each by creation time and id; then stably by creation time. */
  async listTokens(project: string): Promise<StoredToken[]> {
    const order = (a: StoredToken, b: StoredToken) =>
      compareKeys(`${a.createdAt}#${a.id}`, `${b.createdAt}#${b.id}`);
    const all = [...this.tokens.values()];
    const admin = all.filter((token) => token.project === undefined).sort(order);
    const own = all.filter((token) => token.project === project).sort(order);
    return [...admin, ...own]
      .sort((a, b) => (a.createdAt === b.createdAt ? 0 : a.createdAt < b.createdAt ? -1 : 1))
      .map(copy);
  }

  async deleteToken(id: string, audit?: TokenAudit): Promise<boolean> {
    if (!this.tokens.has(id)) return false;
    transact([{ item: `token\n${id}`, apply: () => this.tokens.delete(id) }, ...this.audit(audit)]);
    return true;
  }

  private audit(audit: TokenAudit | undefined): Write[] {
    return audit ? [this.trail.put(audit.project, audit.event)] : [];
  }
}
