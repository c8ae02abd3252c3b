import { KafkajsDriver } from '../../../runtime/kafka/kafkajs-driver.js';
import { PlatformaticKafkaDriver } from '../../../runtime/kafka/platformatic-driver.js';
import { driverContract } from './driver-contract.js';

driverContract('platformatic', (brokers) => new PlatformaticKafkaDriver({ brokers, clientId: 'it-kafka-driver' }));
driverContract('kafkajs', (brokers) => new KafkajsDriver({ brokers, clientId: 'it-kafkajs-driver' }));
