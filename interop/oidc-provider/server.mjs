import Provider from 'oidc-provider';
// A third-party authorization server for `idconform check oauth`: node oidc-provider with its development log-in
// and consent pages, three clients, PKCE required, refresh rotation, introspection and revocation.
const port = Number(process.env.PORT || 18555);
const issuer = `http://127.0.0.1:${port}`;
const clients = [
  { client_id: 'qa', client_secret: 'qa-secret', redirect_uris: ['https://qa.example/callback'],
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid offline_access profile email' },
  { client_id: 'qa2', client_secret: 'qa2-secret', redirect_uris: ['https://qa.example/callback'],
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: ['https://qa.example/callback'],
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
];
const provider = new Provider(issuer, {
  clients,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, introspection: { enabled: true }, revocation: { enabled: true } },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com` }) }),
});
provider.proxy = false;
provider.listen(port, () => console.log(`listening ${issuer}`));
