/**
 * The MQTT layer: pure message builders (a Node-RED flow can hand them to its own `mqtt out` node)
 * and `MqttPublisher`, which sends them to a broker.
 *
 * Topics, all retained, QoS 1 (`<base>` defaults to `glucobridge`):
 * - `<base>/status`                     `online` / `offline`, also the last will
 * - `<base>/<subject>/state`            JSON: mgdl, mmol, value, unit, trend, arrow, time, delta, low,
 *                                       urgentLow, high, stale, provider, limit
 * - `<base>/<subject>/glucose`         plain value in the subject's unit
 * - `<base>/<subject>/trend`           Home Assistant's trend word (`steady`, …, `unknown`)
 * - `<base>/<subject>/problem`          JSON: problem, code, status, retryable, hint
 * - `<base>/<subject>/<kind>`           measurements: weight, blood_pressure, temperature, …
 * - `<base>/bridge/state`              JSON: version, accounts, lastError (with the `bridge` option)
 * - `<prefix>/<component>/glucobridge_<subject>/<object>/config`   Home Assistant discovery, or with
 *   `discovery: 'device'` one `<prefix>/device/glucobridge_<subject>/config` per device
 *
 * Decisions worth knowing:
 * - A subject key is `subjectSlug(name)`; a name that looks like an e-mail address is refused (CONFIG).
 * - The glucose and trend entities read the plain topics, which change only with a new reading, so
 *   `expire_after` means "no new reading"; marking data stale touches only the JSON state.
 * - A new connection publishes what the broker lacks rather than everything again: after a broker
 *   restart with persistence, consumers do not receive the last reading twice.
 */
export * from './topics';
export * from './subject';
export * from './state';
export * from './discovery';
export * from './bridge';
export * from './sync';
export { MqttPublisher, type MqttPublisherOptions } from './publisher';
