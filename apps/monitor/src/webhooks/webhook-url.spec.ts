import { createHmac } from 'node:crypto';
import { signatureOf } from './signature';
import { parseWebhookUrl, refusalOf, WebhookUrlRefused } from './webhook-url';

const codeOf = (raw: string, allowPrivate = false) => {
  try {
    parseWebhookUrl(raw, allowPrivate);
    return 'ok';
  } catch (err) {
    return (err as WebhookUrlRefused).code;
  }
};

describe('webhook URLs (SSRF)', () => {
  it.each([
    ['https://hooks.example.gov.cn/a', 'ok'],
    ['https://8.8.8.8/a', 'ok'],
    ['https://[2606:4700:4700::1111]/a', 'ok'],
    ['http://127.0.0.1:8080/a', 'ok'],
    ['http://localhost:8080/a', 'ok'],
    ['http://[::1]:8080/a', 'ok'],
    ['http://hooks.example.gov.cn/a', 'WEBHOOK.URL_NOT_HTTPS'],
    ['http://10.0.0.1/a', 'WEBHOOK.URL_NOT_HTTPS'],
    ['ws://example.com/a', 'WEBHOOK.URL_NOT_HTTPS'],
    ['https://10.0.0.1/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://172.16.5.4/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://169.254.169.254/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://127.0.0.1/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://[::ffff:127.0.0.1]/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://[fe80::1]/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://0x7f000001/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'], // WHATWG URL: 127.0.0.1
    ['https://2130706433/a', 'WEBHOOK.URL_PRIVATE_ADDRESS'],
    ['https://a:b@example.com/', 'WEBHOOK.URL_INVALID'],
    ['//example.com/', 'WEBHOOK.URL_INVALID'],
  ])('%s → %s', (url, code) => {
    expect(codeOf(url)).toBe(code);
  });

  it('WEBHOOK_ALLOW_PRIVATE lets https reach private addresses, never unspecified or multicast', () => {
    expect(codeOf('https://10.0.0.1/a', true)).toBe('ok');
    expect(codeOf('https://127.0.0.1/a', true)).toBe('ok');
    expect(refusalOf('0.0.0.0', 'https:', true)?.code).toBe('WEBHOOK.URL_PRIVATE_ADDRESS');
    expect(refusalOf('224.0.0.1', 'https:', true)?.code).toBe('WEBHOOK.URL_PRIVATE_ADDRESS');
    // http stays loopback-only
    expect(codeOf('http://10.0.0.1/a', true)).toBe('WEBHOOK.URL_NOT_HTTPS');
  });

  it('X-Signature-256 is sha256= and the hex HMAC-SHA256 of the raw body', () => {
    const body = '{"kind":"obligation.overdue","测试":"值"}';
    expect(signatureOf('k', body)).toBe(
      `sha256=${createHmac('sha256', 'k').update(Buffer.from(body, 'utf8')).digest('hex')}`,
    );
    expect(signatureOf('k', body)).not.toBe(signatureOf('k2', body));
  });
});
