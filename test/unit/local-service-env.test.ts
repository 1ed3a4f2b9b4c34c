import { containerEnv, envName, expandRefs, serviceEnv } from '../../cli/local/service-env';

const reviews = { name: 'reviews', clusterIP: '198.19.0.12', ports: [{ name: 'http', port: 9080 }] };
const pod = { name: 'productpage-v1', namespace: 'demo', podIP: '198.18.1.11', nodeName: 'node1' };

describe('local runtime container environment', () => {
  it('names Service variables like the kubelet (upper case, - and . become _)', () => {
    expect(envName('my-svc.v2')).toBe('MY_SVC_V2');
    expect(serviceEnv(reviews)).toEqual({
      REVIEWS_SERVICE_HOST: '198.19.0.12',
      REVIEWS_SERVICE_PORT: '9080',
      REVIEWS_SERVICE_PORT_HTTP: '9080',
      REVIEWS_PORT: 'tcp://198.19.0.12:9080',
      REVIEWS_PORT_9080_TCP: 'tcp://198.19.0.12:9080',
      REVIEWS_PORT_9080_TCP_PROTO: 'tcp',
      REVIEWS_PORT_9080_TCP_PORT: '9080',
      REVIEWS_PORT_9080_TCP_ADDR: '198.19.0.12',
    });
  });

  it('sets nothing for headless or portless Services', () => {
    expect(serviceEnv({ ...reviews, clusterIP: 'None' })).toEqual({});
    expect(serviceEnv({ ...reviews, ports: [] })).toEqual({});
  });

  it('adds POD_NAME, POD_NAMESPACE, POD_IP, NODE_NAME and lets the container env win', () => {
    const env = containerEnv({ pod, services: [reviews], env: [{ name: 'REVIEWS_SERVICE_PORT', value: '1' }, { name: 'X', value: 'a' }] });
    expect(env).toMatchObject({
      POD_NAME: 'productpage-v1',
      POD_NAMESPACE: 'demo',
      POD_IP: '198.18.1.11',
      NODE_NAME: 'node1',
      REVIEWS_SERVICE_HOST: '198.19.0.12',
      REVIEWS_SERVICE_PORT: '1',
      X: 'a',
    });
  });

  it('leaves Service variables out when enableServiceLinks is false', () => {
    const env = containerEnv({ pod, services: [reviews], enableServiceLinks: false });
    expect(Object.keys(env).sort()).toEqual(['NODE_NAME', 'POD_IP', 'POD_NAME', 'POD_NAMESPACE']);
  });

  it('expands $(VAR) from earlier variables, keeps unknown ones and unescapes $$', () => {
    expect(expandRefs('http://$(REVIEWS_SERVICE_HOST):$(REVIEWS_SERVICE_PORT)/$(NOPE) $$(X)', serviceEnv(reviews))).toBe(
      'http://198.19.0.12:9080/$(NOPE) $(X)',
    );
    const env = containerEnv({ pod, services: [], env: [{ name: 'A', value: 'x-$(POD_IP)' }, { name: 'B', value: '$(A)!' }] });
    expect(env.B).toBe('x-198.18.1.11!');
  });
});
