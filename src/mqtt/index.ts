// The MQTT layer: pure message builders (usable from a Node-RED flow) and the publisher.
export * from './topics';
export * from './subject';
export * from './state';
export * from './discovery';
export * from './sync';
export { MqttPublisher, type MqttPublisherOptions } from './publisher';
