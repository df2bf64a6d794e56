@oauth
Feature: The authorization code flow with PKCE
  A user logs in and consents through the server's own pages; the client gets a code bound to its request.

  @rfc6749-4.1.2 @must
  Scenario: A user logs in and consents, and the client gets a code with its state
    Given the client prepares an authorization request
    And the request has state "qa state/+=&~"
    When the user logs in and consents
    Then the client is redirected with a code
    When the client exchanges the code
    Then the response status is 200
    And the response body at "token_type" is "Bearer"
    And the response header "Cache-Control" contains "no-store"
    And the access token is accepted at userinfo

  @rfc9700-2.1 @must
  Scenario: A redirect URI with a trailing slash added is never redirected to
    Given the client prepares an authorization request
    And the request has redirect URI "{{redirect_uri}}/"
    When the user logs in and consents
    Then the browser is not sent to "{{redirect_uri}}/"

  @rfc6749-4.1.2.1 @must
  Scenario: An unregistered redirect URI is never redirected to
    Given the client prepares an authorization request
    And the request has redirect URI "https://attacker.idconform.test/callback"
    When the user logs in and consents
    Then the browser is not sent to "https://attacker.idconform.test/callback"

  @rfc6749-4.1.2.1 @must
  Scenario: An unsupported response type goes back to the client as an error, with the state
    Given the client prepares an authorization request
    And the request has response type "idconform_unknown"
    When the user logs in and consents
    Then the client is redirected with error "unsupported_response_type"

  @rfc7636-4.4.1 @must
  Scenario: A public client without a PKCE challenge is refused
    Given the public client prepares an authorization request
    And the request has no PKCE challenge
    When the user logs in and consents
    Then the client is redirected with error "invalid_request"
