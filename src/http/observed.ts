import { toCgmError, type CgmErrorCode } from '../model/errors';
import { HttpTransport, type HttpRequest, type HttpResponse } from './transport';

/** How one request ended: the HTTP status of an answer, or the error code when none came. */
export type RequestOutcome = { status: number } | { error: CgmErrorCode };

/**
 * A transport that tells a host how each request ended (for metrics), and otherwise is `inner`:
 * the same redactor, timeouts and limits. The observer learns no URL, header or body.
 */
export class ObservedTransport extends HttpTransport {
  constructor(
    private readonly inner: HttpTransport,
    private readonly observe: (outcome: RequestOutcome) => void,
  ) {
    super({ redactor: inner.redactor });
  }

  override async send(request: HttpRequest): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await this.inner.send(request);
    } catch (thrown) {
      this.tell({ error: toCgmError(thrown).code });
      throw thrown;
    }
    this.tell({ status: response.status });
    return response;
  }

  private tell(outcome: RequestOutcome): void {
    try {
      this.observe(outcome);
    } catch {
      // A host's counter must never change what a request returns.
    }
  }
}
