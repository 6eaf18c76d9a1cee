import type { ZodType } from 'zod';
import type { Logger } from '../../model/logger';
import { dropRefused, parseRecord, recordList } from '../records';
import { MAX_PAGES, PAGE_SIZE } from './constants';
import type { AnyRecord } from './schemas';

/**
 * Reads a list page by page (`start` stepping by what came back) until a short page, or a page
 * with nothing new (a server ignoring `start`). Whether VitaDock counts `start` from 0 or 1 is not
 * documented: stepping from 0 at worst re-reads one record per page, and records are kept by id.
 */
export async function readPages<R extends AnyRecord>(
  fetchPage: (start: number, max: number) => Promise<unknown>,
  schema: ZodType<R>,
  what: string,
  logger: Logger,
): Promise<R[]> {
  const byId = new Map<string, R>();
  for (let page = 0, start = 0; page < MAX_PAGES; page += 1) {
    // A page longer than ten times what was asked for is not a page: refused before it is read.
    const body = recordList(await fetchPage(start, PAGE_SIZE), 10 * PAGE_SIZE, what);
    let fresh = 0;
    // A broken record is dropped (and logged); the rest of the page still counts.
    for (const record of dropRefused(
      body,
      (item) => parseRecord(schema, item),
      `${what} page ${page}`,
      logger,
    )) {
      if (!byId.has(record.id)) fresh += 1;
      // A later page may carry a newer version of a record already seen.
      byId.set(record.id, record);
    }
    if (body.length < PAGE_SIZE || fresh === 0) return [...byId.values()];
    start += body.length;
  }
  logger.warn(`${what}: stopped after ${MAX_PAGES} pages`);
  return [...byId.values()];
}
