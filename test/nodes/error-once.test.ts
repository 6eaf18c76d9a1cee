// One failure is one report: a single [error] line (code, message and hint) when no Catch node takes
// it, or a single Catch message and no [error] line; never twice in other words. Node-RED also shows
// each [error] line in the editor's debug sidebar, so the count of lines is the count of debug messages.
import { expect } from 'chai';
import type { NodeMessage } from '../../nodes/lib/types';
import { ALL_NODES, type Clouds, dexcomCredentials, dexcomFlow, helper, useRuntime } from './harness';

/** Node-RED's level number for error (its log module: fatal 10, error 20, warn 30, info 40). */
const ERROR = 20;

function errorLines(id: string): string[] {
  return helper
    .log()
    .args.map(([event]) => event)
    .filter((event) => event.level === ERROR && event.id === id)
    .map((event) => String(event.msg));
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the first report arrived, then a while longer for any second one. */
async function firstThenQuiet(count: () => number): Promise<void> {
  for (let i = 0; count() === 0; i += 1) {
    if (i > 200) throw new Error('no report within 10 s');
    await settle(50);
  }
  await settle(700);
}

/** Every message the Catch node passes on. */
function caughtMessages(): NodeMessage[] {
  const caught: NodeMessage[] = [];
  (helper.getNode('caught') as { on(e: 'input', l: (m: NodeMessage) => void): void }).on('input', (m) =>
    caught.push(m),
  );
  return caught;
}

describe('cgm nodes: an error is reported once', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  const withoutCatch = (flow: Record<string, unknown>[]) =>
    flow.filter((n) => n.type !== 'catch' && n.id !== 'caught');
  const polling = () =>
    dexcomFlow(clouds.dexcomServer, [
      { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode: 'poll', wires: [[]] },
    ]) as Record<string, unknown>[];

  it('polling, a refused password, no Catch node: one [error] line with the code and the hint', async () => {
    await helper.load(ALL_NODES, withoutCatch(polling()), dexcomCredentials('wrong-password'));
    await firstThenQuiet(() => errorLines('read').length);
    const lines = errorLines('read');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^AUTH_INVALID: .+ \(hint: check the "username" and "password"/);
  });

  it('polling, a refused password, with a Catch node: one Catch message and no [error] line', async () => {
    await helper.load(ALL_NODES, polling(), dexcomCredentials('wrong-password'));
    const caught = caughtMessages();
    await firstThenQuiet(() => caught.length);
    expect(caught).to.have.length(1);
    expect(caught[0]!.error).to.deep.include({ code: 'AUTH_INVALID' });
    expect(errorLines('read')).to.deep.equal([]);
  });

  it('an input that fails: one Catch message whose text names the form’s fields, never a variable', async () => {
    const flow = dexcomFlow(clouds.dexcomServer, [
      { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode: 'latest', wires: [[]] },
    ]);
    // A password but neither username nor account ID.
    await helper.load(ALL_NODES, flow, { acct: { password: 'secret' } });
    const caught = caughtMessages();
    (helper.getNode('read') as { receive(msg: NodeMessage): void }).receive({ payload: 'go' });
    await firstThenQuiet(() => caught.length);
    expect(caught).to.have.length(1);
    const error = caught[0]!.error as { code: string; message: string };
    expect(error.code).to.equal('CONFIG');
    expect(error.message).to.contain('(hint: give the "username" or the "account ID")');
    expect(error.message).not.to.match(/GLUCOBRIDGE_|--/);
    expect(errorLines('read')).to.deep.equal([]);
  });
});
