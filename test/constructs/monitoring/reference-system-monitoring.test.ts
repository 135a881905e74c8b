import * as fs from 'node:fs';
import type { SynthResult } from '../../app/synth';
import { synthReferenceSystem } from '../../app/synth';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe.each(['dev', 'prod'])('reference system monitoring, env=%s (not bundled)', (envName) => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthReferenceSystem(envName, { bundle: false });
  });
  afterAll(() => fs.rmSync(result.outdir, { recursive: true, force: true }));

  const stack = (name: string) => result.assembly.getStackByName(`Shop-${envName}-${name}`).template;
  const resources = (name: string) => stack(name).Resources as Resources;
  const ofType = (name: string, type: string) =>
    Object.values(resources(name)).filter((r) => r.Type === type);

  it.each(['users', 'orders', 'inventory'])(
    'gives %s a dashboard and its SLO burn-rate composite alarms',
    (service) => {
      const name = service.charAt(0).toUpperCase() + service.slice(1);
      const dashboards = ofType(name, 'AWS::CloudWatch::Dashboard');
      expect(dashboards.map((d) => d.Properties.DashboardName)).toEqual([`Shop-${envName}-${service}`]);
      // Stack tags are dropped from dashboards: cfn-lint's schemas do not know their Tags yet (E3002).
      expect(dashboards[0].Properties.Tags).toBeUndefined();
      const composites = ofType(name, 'AWS::CloudWatch::CompositeAlarm');
      expect(composites.map((c) => c.Properties.AlarmName).sort()).toEqual(
        [
          'availability-burn-rate-1h-5m',
          'availability-burn-rate-6h-30m',
          'latency-burn-rate-1h-5m',
          'latency-burn-rate-6h-30m',
        ].map((suffix) => `Shop-${envName}-${service}-SLO-${suffix}`),
      );
      for (const composite of composites) {
        expect(composite.Properties.AlarmActions).toEqual([
          { Ref: expect.stringMatching(/alarmtopicarn/) },
          {
            'Fn::If': [
              expect.any(String),
              { Ref: 'AWS::NoValue' },
              { Ref: expect.stringMatching(/externalalarmtopicarn/) },
            ],
          },
        ]);
      }
    },
  );

  it.each(['Users', 'Orders', 'Inventory'])(
    'makes every alarm of %s notify, but the windows of the SLO composites',
    (name) => {
      expect.hasAssertions();
      const alarms = ofType(name, 'AWS::CloudWatch::Alarm');
      expect(alarms.length).toBeGreaterThan(20);
      for (const { Properties } of alarms) {
        const window = /-SLO-(availability|latency)-burn-rate-\d+[mh]$/.test(String(Properties.AlarmName));
        expect({ name: Properties.AlarmName, notifies: Array.isArray(Properties.AlarmActions) }).toEqual({
          name: Properties.AlarmName,
          notifies: !window,
        });
      }
    },
  );

  it('shows every service side by side on the platform dashboard, and alarms on the Cognito trigger', () => {
    const [dashboard] = ofType('Platform', 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties.DashboardName).toBe(`Shop-${envName}-platform`);
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const service of ['users', 'orders', 'inventory']) {
      expect(body).toContain(`\\"ApiName\\",\\"Shop-${envName}-${service}\\"`);
      expect(body).toContain(`alarm:Shop-${envName}-${service}-SLO-availability-burn-rate-1h-5m`);
    }
    expect(
      ofType('Platform', 'AWS::CloudWatch::Alarm')
        .map((a) => a.Properties.AlarmName)
        .sort(),
    ).toEqual(
      ['Fault-Count', 'Latency-P99', 'Throttled-Count'].map(
        (suffix) => `Shop-${envName}-platform-pre-token-generation-${suffix}-Critical`,
      ),
    );
  });

  it("gives every log group of every stack the environment's retention", () => {
    expect.hasAssertions();
    const days = envName === 'prod' ? 365 : 7;
    for (const s of result.assembly.stacks) {
      for (const [id, r] of Object.entries(s.template.Resources as Resources)) {
        if (r.Type !== 'AWS::Logs::LogGroup') continue;
        expect({ stack: s.stackName, id, days: r.Properties.RetentionInDays }).toEqual({
          stack: s.stackName,
          id,
          days,
        });
      }
    }
  });

  it('keeps every template well inside CloudFormation limits (1 MB, 500 resources)', () => {
    expect.hasAssertions();
    for (const s of result.assembly.stacks) {
      const size = fs.statSync(s.templateFullPath).size;
      const count = Object.keys(s.template.Resources).length;
      expect({ stack: s.stackName, under: size < 512_000 && count < 400 }).toEqual({
        stack: s.stackName,
        under: true,
      });
    }
  });
});
