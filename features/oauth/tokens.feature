@oauth
Feature: The token endpoint keeps codes and refresh tokens bound and single-use

  @rfc6749-4.1.2 @must
  Scenario: A code is refused the second time
    Given the client prepares an authorization request
    And the user logs in and consents
    And the client exchanges the code
    And the response status is 200
    When the client exchanges the code again
    Then the response status is 400
    And the response body at "error" is "invalid_grant"

  @rfc7636-4.6 @must
  Scenario: A code is refused with a wrong verifier
    Given the client prepares an authorization request
    And the user logs in and consents
    When the client exchanges the code with verifier "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    Then the response status is 400
    And the response body at "error" is "invalid_grant"

  @rfc6749-4.1.3 @must
  Scenario: Another client cannot redeem the code
    Given the client prepares an authorization request
    And the user logs in and consents
    When the second client exchanges the code
    Then the response status is 400
    And the response body at "error" is "invalid_grant"

  @rfc6749-5.2 @must
  Scenario: A wrong client secret gets 401 with a Basic challenge
    Given the client prepares an authorization request
    And the user logs in and consents
    When the client exchanges the code with a wrong secret
    Then the response status is 401
    And the response body at "error" is "invalid_client"
    And the response header "WWW-Authenticate" contains "Basic"

  @rfc9700-4.14.2 @should
  Scenario: Replaying a rotated refresh token revokes the family
    Given the client prepares an authorization request
    And the user logs in and consents
    And the client exchanges the code
    And the client refreshes the token
    And the response status is 200
    When the client refreshes with the previous refresh token
    Then the response status is 400
    And the response body at "error" is "invalid_grant"
    When the client refreshes the token
    Then the response status is 400

  @rfc6749-6 @must
  Scenario: A refresh cannot widen the scope
    Given the client prepares an authorization request
    And the request has scope "user.read"
    And the user logs in and consents
    And the client exchanges the code
    When the client refreshes the token with scope "user.read users.read"
    Then the response status is 400
    And the response body at "error" is "invalid_scope"
