@oauth
Feature: Revocation, userinfo and introspection

  @rfc7009-2.1 @should
  Scenario: Revoking the refresh token also ends its access tokens
    Given the client prepares an authorization request
    And the user logs in and consents
    And the client exchanges the code
    When the client revokes the refresh token
    Then the response status is 200
    And the access token is refused at userinfo

  @rfc6750-3.1 @must
  Scenario: A request without a token is challenged without an error code
    When the client calls userinfo without a token
    Then the response status is 401
    And the response header "WWW-Authenticate" contains "Bearer"
    And the response header "WWW-Authenticate" contains "resource_metadata="

  @rfc6750-3.1 @must
  Scenario: A made-up token is invalid_token
    When the client calls userinfo with token "not-a-token"
    Then the response status is 401
    And the response header "WWW-Authenticate" contains "invalid_token"

  @rfc7662-2.2 @must
  Scenario: A live access token introspects as active, a revoked one as inactive
    Given the client prepares an authorization request
    And the user logs in and consents
    And the client exchanges the code
    When the client introspects the access token
    Then the response body at "active" is true
    When the client revokes the access token
    And the client introspects the access token
    Then the response status is 200
    And the response body at "active" is false

  @rfc7523-3 @must
  Scenario: A valid JWT bearer assertion is honoured and an expired one refused
    When the client presents a valid JWT bearer assertion
    Then the response status is 200
    And the access token is accepted at userinfo
    When the client presents an expired JWT bearer assertion
    Then the response status is 400
    And the response body at "error" is "invalid_grant"

  @rfc7523-3 @must
  Scenario: Unsigned and stranger-signed assertions are refused
    When the client presents an unsigned JWT bearer assertion
    Then the response body at "error" is "invalid_grant"
    When the client presents a stranger-signed JWT bearer assertion
    Then the response body at "error" is "invalid_grant"
