import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MonotonicTimestamps,
  baseString,
  javaUrlEncode,
  makeNonce,
  parameterString,
  parseAuthorization,
  queryOf,
  signRequest,
  type OAuthCredentials,
} from '../../../src/providers/vitadock/oauth1';

interface Vector {
  title: string;
  method: string;
  path: string;
  parameterString: string;
  baseString: string;
  signature: string;
}

/** Reads the computed vectors file: `== n METHOD /path` then the three labelled lines. */
function readVectors(): Vector[] {
  const text = readFileSync(join(__dirname, 'fixtures', 'signature-test-vectors.computed.txt'), 'utf8');
  const vectors: Vector[] = [];
  for (const block of text.split(/^== /m).slice(1)) {
    const lines = block.split('\n');
    const [, method, path] = /^\d+ (\w+) (\S+)/.exec(lines[0] ?? '') ?? [];
    const field = (label: string) => {
      const line = lines.find((l) => l.startsWith(label));
      if (!line) throw new Error(`vector without ${label}`);
      return line.slice(line.indexOf(':') + 1).trim();
    };
    vectors.push({
      title: lines[0] ?? '',
      method: method ?? '',
      path: path ?? '',
      parameterString: field('BaseParameterString'),
      baseString: field('BaseSignatureString'),
      signature: field('oauth_signature'),
    });
  }
  return vectors;
}

const CONSUMER = { consumerKey: 'APPTOKEN0123456789', consumerSecret: 'APPSECRET0123456789' };
const FIXED = { timestamp: 1420070400000, nonce: 'abcdefghijklmnopqrstuvwxyz0123456789' };
const JSON_BODY = '[{"measurementDate":1420070400000,"bodyTemperature":37.2}]';

/** The credentials each vector was computed with (its file header says which token secret). */
function credentialsFor(path: string): OAuthCredentials {
  if (path.includes('unauthorizedaccesses')) return CONSUMER;
  if (path.includes('verify'))
    return { ...CONSUMER, token: 'UNAUTHTOKEN', tokenSecret: 'UNAUTHSECRET', verifier: 'VERIFIER' };
  return { ...CONSUMER, token: 'ACCESSTOKEN', tokenSecret: 'ACCESSSECRET' };
}

describe('vitadock oauth1 signer', () => {
  const vectors = readVectors();

  it('finds all five computed vectors in the fixture', () => {
    expect(vectors.map((v) => `${v.method} ${v.path}`)).to.deep.equal([
      'POST /auth/unauthorizedaccesses',
      'POST /auth/accesses/verify',
      'GET /data/glucodockglucoses/sync?start=0&max=100&date_since=0',
      'GET /data/targetscales/count?date_since=0',
      'POST /data/thermodocks/array',
    ]);
  });

  for (const vector of readVectors()) {
    it(`matches vector ${vector.title}`, () => {
      // An http:// URL must sign as https:// (Medisana forces it), so the vectors are fed http.
      const url = `http://cloud.vitadock.com${vector.path}`;
      const body = vector.path.endsWith('/array') ? JSON_BODY : undefined;
      const signed = signRequest(
        { method: vector.method, url, ...FIXED, ...(body ? { body } : {}) },
        credentialsFor(vector.path),
      );
      expect(signed.baseString).to.equal(vector.baseString);
      expect(signed.signature).to.equal(vector.signature);
      const params = parseAuthorization(signed.authorization);
      expect(params?.oauth_signature).to.equal(vector.signature);
      const { oauth_signature: _sig, ...rest } = params ?? {};
      expect(parameterString({ ...queryOf(url), ...rest }, body)).to.equal(vector.parameterString);
    });
  }

  it('puts the oauth fields, never the query, in the header, in the known-good order', () => {
    const signed = signRequest(
      {
        method: 'GET',
        url: 'https://cloud.vitadock.com/data/cardiodocks?start=0&max=100&date_since=0',
        ...FIXED,
      },
      credentialsFor('/data'),
    );
    expect(signed.authorization).to.match(
      /^OAuth oauth_consumer_key="APPTOKEN0123456789",oauth_signature_method="HMAC-SHA256",oauth_timestamp="1420070400000",oauth_nonce="abcdefghijklmnopqrstuvwxyz0123456789",oauth_token="ACCESSTOKEN",oauth_version="1.0",oauth_signature="[^"]+"$/,
    );
    expect(signed.authorization).not.to.match(/start|max|date_since|ACCESSSECRET|APPSECRET/);
  });

  it('signs query parameters given separately exactly as those in the URL', () => {
    const inUrl = signRequest(
      { method: 'GET', url: 'https://h/data/x?start=0&max=100&date_since=5', ...FIXED },
      CONSUMER,
    );
    const apart = signRequest(
      { method: 'GET', url: 'https://h/data/x', query: { date_since: 5, max: 100, start: 0 }, ...FIXED },
      CONSUMER,
    );
    expect(apart.signature).to.equal(inUrl.signature);
    const other = signRequest(
      { method: 'GET', url: 'https://h/data/x?start=1&max=100&date_since=5', ...FIXED },
      CONSUMER,
    );
    expect(other.signature).not.to.equal(inUrl.signature);
  });

  it('uses an empty token secret on the first calls and changes with every secret', () => {
    const input = { method: 'POST', url: 'https://h/auth/unauthorizedaccesses', ...FIXED };
    const plain = signRequest(input, CONSUMER).signature;
    expect(signRequest(input, { ...CONSUMER, tokenSecret: '' }).signature).to.equal(plain);
    expect(signRequest(input, { ...CONSUMER, consumerSecret: 'x' }).signature).not.to.equal(plain);
    expect(signRequest(input, { ...CONSUMER, tokenSecret: 'x' }).signature).not.to.equal(plain);
  });

  it('sorts in plain string order (upper case before lower, underscores after letters)', () => {
    expect(parameterString({ b: '1', B: '2', a_b: '3', ab: '4' })).to.equal('B=2&a_b=3&ab=4&b=1');
  });

  it('encodes like java.net.URLEncoder', () => {
    expect(javaUrlEncode(`a b*c~d!e'f(g)h-i.j_k/l:m,n"o{p}[q]é`)).to.equal(
      'a+b*c%7Ed%21e%27f%28g%29h-i.j_k%2Fl%3Am%2Cn%22o%7Bp%7D%5Bq%5D%C3%A9',
    );
  });

  it('keeps the port of a custom server in the signed URL', () => {
    expect(baseString('GET', 'http://127.0.0.1:8080/vitadock/data/x?a=1', { a: '1' })).to.equal(
      'GET&https%3A%2F%2F127.0.0.1%3A8080%2Fvitadock%2Fdata%2Fx&a%3D1',
    );
  });

  it('rejects headers that are not OAuth or repeat a field', () => {
    expect(parseAuthorization(undefined)).to.equal(undefined);
    expect(parseAuthorization('Bearer abc')).to.equal(undefined);
    expect(parseAuthorization('OAuth a="1",a="2"')).to.equal(undefined);
    expect(parseAuthorization('OAuth a="1", b="x%3D"')).to.deep.equal({ a: '1', b: 'x%3D' });
  });

  it('makes 36-character alphanumeric nonces that differ', () => {
    const nonces = new Set(Array.from({ length: 200 }, () => makeNonce()));
    expect(nonces.size).to.equal(200);
    for (const nonce of nonces) expect(nonce).to.match(/^[A-Za-z0-9]{36}$/);
  });

  it('never lets timestamps go backwards, even when the clock steps back', () => {
    let now = 1_000_000.7;
    const timestamps = new MonotonicTimestamps(() => now);
    const first = timestamps.next();
    expect(first).to.equal(1_000_000);
    expect(timestamps.next()).to.equal(1_000_001);
    now = 500_000;
    expect(timestamps.next()).to.equal(1_000_002);
    now = 2_000_000;
    expect(timestamps.next()).to.equal(2_000_000);
  });
});
