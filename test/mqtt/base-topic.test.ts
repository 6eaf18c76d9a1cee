import { expect } from 'chai';
import { connectAsync } from 'mqtt';
import { startEmbeddedBroker } from '../../src/bridge/broker';
import { silentLogger } from '../../src/model/logger';
import { makeReading } from '../../src/model/reading';
import { MqttPublisher } from '../../src/mqtt/publisher';
import { CgmError } from '../../src/model/errors';

describe('MqttPublisher with a custom base topic', function () {
  this.timeout(15_000);

  it('puts every topic of a subject, and the discovery state topics, under that base', async () => {
    const broker = await startEmbeddedBroker(0);
    const seen = new Map<string, string>();
    const watcher = await connectAsync(broker.url);
    watcher.on('message', (topic, payload) => seen.set(topic, payload.toString()));
    await watcher.subscribeAsync(['#'], { qos: 1 });
    const publisher = new MqttPublisher({
      url: broker.url,
      baseTopic: 'home/cgm',
      logger: silentLogger,
      scanWindowMs: 100,
    });
    try {
      await publisher.start();
      publisher.addSubject({
        key: 'anna',
        name: 'Anna',
        provider: 'dexcom',
        units: 'mgdl',
        thresholds: { urgentLow: 55, low: 70, high: 180 },
        staleMinutes: 15,
      });
      publisher.publishReading(
        'anna',
        makeReading({ provider: 'dexcom', subject: 'anna', time: new Date(), mgdl: 101, trend: 'flat' }),
      );
      publisher.publishProblem('anna', new CgmError('NETWORK', 'down'));
      expect(await publisher.flush(5_000)).to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ours = [...seen.keys()].filter((t) => !t.startsWith('homeassistant/'));
      expect(ours.sort()).to.deep.equal([
        'home/cgm/anna/glucose',
        'home/cgm/anna/problem',
        'home/cgm/anna/state',
        'home/cgm/anna/trend',
        'home/cgm/status',
      ]);
      const glucoseConfig = [...seen].find(
        ([t]) => t.startsWith('homeassistant/sensor/') && t.endsWith('/glucose/config'),
      );
      expect((JSON.parse(glucoseConfig![1]) as { state_topic: string }).state_topic).to.equal(
        'home/cgm/anna/glucose',
      );
    } finally {
      await publisher.stop();
      await watcher.endAsync();
      await broker.close();
    }
  });
});
