import { expect } from 'chai';
import { Redactor } from '../../../src/http/redact';
import type { HttpResponse } from '../../../src/http/transport';
import { libreError, type AnswerContext } from '../../../src/providers/librelinkup/errors';
import { fixture } from './helpers';

function answer(status: number, text: string, headers: Record<string, string> = {}): HttpResponse {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}

const data: AnswerContext = { what: 'graph', kind: 'data', redactor: new Redactor(), version: '4.16.0' };
const login: AnswerContext = { ...data, what: 'login', kind: 'login' };

describe('libreError (the one LibreLinkUp error mapping)', () => {
  it('lets a status-0 answer and a redirect through', () => {
    expect(libreError(answer(200, fixture('connections-two-patients.json')), data)).to.equal(undefined);
    expect(libreError(answer(200, fixture('login-redirect-eu.fokkezb.json')), login)).to.equal(undefined);
  });

  it('maps couldNotLoadPatient to NOT_FOUND for an unknown patient and NO_DATA for a followed one', () => {
    const body = answer(200, fixture('graph-error-couldNotLoadPatient-status4.json'));
    expect(libreError(body, data)?.code).to.equal('NOT_FOUND');
    expect(libreError(body, { ...data, patientKnown: true })?.code).to.equal('NO_DATA');
  });

  it('maps status 911 to a retryable SERVER error with the region hint', () => {
    const error = libreError(answer(200, '{"status":911}'), login);
    expect(error).to.include({ code: 'SERVER', retryable: true, vendorCode: '911' });
    expect(error?.hint).to.contain('ru or cn');
  });

  it('maps status 920 with HTTP 403 to CONFIG naming the minimum version', () => {
    const error = libreError(answer(403, '{"data":{"minimumVersion":"4.16.0"},"status":920}'), data);
    expect(error).to.include({ code: 'CONFIG', retryable: false });
    expect(error?.hint).to.equal('version too old: set version to 4.16.0 or newer');
  });

  it('maps a body 429 without lock data to RATE_LIMITED, and HTTP 429/430 with Retry-After', () => {
    expect(libreError(answer(200, '{"status":429}'), data)?.code).to.equal('RATE_LIMITED');
    const http = libreError(answer(430, '', { 'retry-after': '120' }), data);
    expect(http).to.include({ code: 'RATE_LIMITED', retryAfterMs: 120_000 });
  });

  it('makes a blocked login wait at least 5 minutes, longer when Retry-After says so, and says why', () => {
    const page = '<!DOCTYPE html><title>Attention Required! | Cloudflare</title>';
    const cases: [HttpResponse, RegExp][] = [
      [answer(430, ''), /HTTP 430/],
      [answer(429, '{"message":"Too Many Requests"}', { 'retry-after': '60' }), /HTTP 429/],
      [answer(403, page), /firewall page \(HTTP 403\)/],
      [answer(200, '{"status":429}'), /too many requests \(status 429\)/],
    ];
    for (const [response, why] of cases) {
      const error = libreError(response, login);
      expect(error, why.source).to.include({ code: 'RATE_LIMITED', retryAfterMs: 300_000, retryable: true });
      expect(error?.message).to.match(why);
      expect(error?.detail).to.deep.equal({ blocked: true });
      expect(error?.hint).to.contain('stop other apps');
    }
    const longer = libreError(answer(430, '', { 'retry-after': '900' }), login);
    expect(longer?.retryAfterMs).to.equal(900_000);
    // A lock with its time stays a lock (waited out by the login policy for that time).
    const locked = libreError(answer(200, fixture('login-locked-status429.json')), login);
    expect(locked).to.include({ code: 'ACCOUNT_LOCKED', retryAfterMs: 300_000 });
  });

  it('treats status 2 as a wrong password only at login', () => {
    const body = answer(200, fixture('login-bad-credentials-status2.json'));
    expect(libreError(body, login)?.code).to.equal('AUTH_INVALID');
    expect(libreError(body, data)?.code).to.equal('SESSION_EXPIRED');
    expect(
      libreError(answer(200, '{"status":2,"error":{"message":"failedToLoadHistory"}}'), data)?.code,
    ).to.equal('SERVER');
  });

  it('maps a Cloudflare 403 page to RATE_LIMITED and other HTML or 5xx to SERVER', () => {
    const page = '<!DOCTYPE html><title>Attention Required! | Cloudflare</title>';
    expect(libreError(answer(403, page), data)?.code).to.equal('RATE_LIMITED');
    expect(libreError(answer(502, page), data)?.code).to.equal('SERVER');
    expect(libreError(answer(200, page), data)?.code).to.equal('PROTOCOL');
    expect(libreError(answer(200, '{"status":0,"data":[{"Fact'), data)?.code).to.equal('PROTOCOL');
  });

  it('cleans registered secrets out of vendor messages', () => {
    const redactor = new Redactor();
    redactor.add('someone@example.org');
    const error = libreError(
      answer(200, '{"status":7,"error":{"message":"no such user someone@example.org"}}'),
      {
        ...data,
        redactor,
      },
    );
    expect(error?.code).to.equal('SERVER');
    expect(JSON.stringify(error)).not.to.contain('someone@example.org');
  });
});
