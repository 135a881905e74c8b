import * as kit from '../../../functions/shared';
import * as resilience from '../../../functions/shared/entries/resilience';
import { HttpMethod } from '../../../functions/shared/http-method';

describe('HttpMethod', () => {
  it('is declared once, with every method', () => {
    expect(Object.values(HttpMethod)).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
  });

  it('is the one the kit and kit/resilience export', () => {
    expect(kit.HttpMethod).toBe(HttpMethod);
    expect(resilience.HttpMethod).toBe(HttpMethod);
  });
});
