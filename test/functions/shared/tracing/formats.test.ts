import { parseDaemonAddress } from '../../../../functions/shared/tracing/daemon';
import { Namespace, Subsegment } from '../../../../functions/shared/tracing/subsegment';
import { formatTraceHeader, parseTraceHeader } from '../../../../functions/shared/tracing/trace-header';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';

describe('parseTraceHeader', () => {
  it('reads Root and Parent of a sampled header, and keeps Lineage to pass on', () => {
    expect(parseTraceHeader(`Root=${ROOT};Parent=${PARENT};Sampled=1;Lineage=a87bd80c:1`)).toEqual({
      root: ROOT,
      parent: PARENT,
      passOn: 'Lineage=a87bd80c:1',
    });
  });

  it('accepts the fields in any order and drops Self, which belongs to the hop that wrote it', () => {
    expect(
      parseTraceHeader(`Sampled=1;Self=1-67891233-abcdef012345678912345678;Parent=${PARENT};Root=${ROOT}`),
    ).toEqual({
      root: ROOT,
      parent: PARENT,
      passOn: '',
    });
  });

  it.each([
    ['not sampled', `Root=${ROOT};Parent=${PARENT};Sampled=0`],
    ['sampling left to the callee', `Root=${ROOT};Parent=${PARENT};Sampled=?`],
    ['no Sampled field', `Root=${ROOT};Parent=${PARENT}`],
    ['no Parent', `Root=${ROOT};Sampled=1`],
    ['a malformed Root', `Root=1-xyz;Parent=${PARENT};Sampled=1`],
    ['a malformed Parent', `Root=${ROOT};Parent=53995C3F;Sampled=1`],
    ['an empty header', ''],
    ['no header', undefined],
  ])('gives undefined (not traced) for %s', (_case, header) => {
    expect(parseTraceHeader(header)).toBeUndefined();
  });
});

describe('formatTraceHeader', () => {
  it('names the given subsegment as Parent and passes Lineage on', () => {
    expect(
      formatTraceHeader({ root: ROOT, parent: PARENT, passOn: 'Lineage=a87bd80c:1' }, 'abcdef0123456789'),
    ).toBe(`Root=${ROOT};Parent=abcdef0123456789;Sampled=1;Lineage=a87bd80c:1`);
    expect(formatTraceHeader({ root: ROOT, parent: PARENT, passOn: '' }, 'abcdef0123456789')).toBe(
      `Root=${ROOT};Parent=abcdef0123456789;Sampled=1`,
    );
  });
});

describe('parseDaemonAddress', () => {
  it('reads host:port, as Lambda sets it', () => {
    expect(parseDaemonAddress('169.254.79.129:2000')).toEqual({ host: '169.254.79.129', port: 2000 });
  });

  it('takes the UDP address of the two-address form, in either order', () => {
    expect(parseDaemonAddress('tcp:127.0.0.1:2000 udp:127.0.0.2:2001')).toEqual({
      host: '127.0.0.2',
      port: 2001,
    });
    expect(parseDaemonAddress('udp:127.0.0.2:2001 tcp:127.0.0.1:2000')).toEqual({
      host: '127.0.0.2',
      port: 2001,
    });
  });

  it('reads a bracketed IPv6 address', () => {
    expect(parseDaemonAddress('[::1]:2000')).toEqual({ host: '::1', port: 2000 });
  });

  it.each([undefined, '', 'localhost', ':2000', 'host:0', 'host:65536', 'host:20a0', 'tcp:127.0.0.1:2000'])(
    'gives undefined (tracing off) for %p',
    (value) => {
      expect(parseDaemonAddress(value)).toBeUndefined();
    },
  );
});

describe('Subsegment documents', () => {
  const trace = { root: ROOT, parent: PARENT, passOn: '' };
  const documentOf = (subsegment: Subsegment) => JSON.parse(JSON.stringify(subsegment));

  it('is an independent subsegment: trace, parent and type, with in_progress until it ends', () => {
    const subsegment = new Subsegment('## index.handler', trace, PARENT);
    const open = documentOf(subsegment);
    expect(open).toEqual({
      name: '## index.handler',
      id: subsegment.id,
      trace_id: ROOT,
      parent_id: PARENT,
      type: 'subsegment',
      start_time: expect.any(Number),
      in_progress: true,
    });
    subsegment.end();
    const ended = documentOf(subsegment);
    expect(ended).not.toHaveProperty('in_progress');
    expect(ended.end_time).toBeGreaterThanOrEqual(ended.start_time);
  });

  it('nests children under their parent, in their namespace', () => {
    const parent = new Subsegment('## index.handler', trace, PARENT);
    const child = parent.child('DynamoDB', Namespace.AWS);
    expect(documentOf(child)).toMatchObject({ parent_id: parent.id, trace_id: ROOT, namespace: 'aws' });
    expect(child.id).not.toBe(parent.id);
    expect(child.traceHeader()).toBe(`Root=${ROOT};Parent=${child.id};Sampled=1`);
  });

  it('turns characters X-Ray rejects in annotation keys into underscores, and drops them from names', () => {
    const subsegment = new Subsegment('users<api>', trace, PARENT);
    subsegment.annotate('order-id', 'o-1');
    subsegment.annotate('ok', true);
    expect(documentOf(subsegment)).toMatchObject({
      name: 'usersapi',
      annotations: { order_id: 'o-1', ok: true },
    });
  });

  it.each([
    [200, {}],
    [404, { error: true }],
    [429, { error: true, throttle: true }],
    [503, { fault: true }],
  ])('flags status %d as %p', (status, flags) => {
    const subsegment = new Subsegment('users', trace, PARENT, Namespace.REMOTE);
    subsegment.setHttpResponse(status, 12);
    const document = documentOf(subsegment);
    expect({ error: document.error, fault: document.fault, throttle: document.throttle }).toEqual({
      error: undefined,
      fault: undefined,
      throttle: undefined,
      ...flags,
    });
    expect(document.http).toEqual({ response: { status, content_length: 12 } });
  });

  it('keeps a status-classified error an error when its exception is added', () => {
    const subsegment = new Subsegment('DynamoDB', trace, PARENT, Namespace.AWS);
    subsegment.setHttpResponse(400);
    subsegment.addError(
      Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }),
      true,
    );
    const document = documentOf(subsegment);
    expect(document.error).toBe(true);
    expect(document.fault).toBeUndefined();
    expect(document.cause.exceptions[0]).toMatchObject({
      type: 'ConditionalCheckFailedException',
      remote: true,
    });
  });
});
