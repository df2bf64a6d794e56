@saml @relay
Feature: RelayState
  The IdP posts the RelayState back with the Response (SAML Bindings §3.5.3); after the sign-in the SP sends the
  browser there — but only to a page of its own.

  @saml-bindings-3.5.3 @should
  Scenario: The SP sends the browser to the RelayState after signing in
    Given the user starts signing in
    And the RelayState is "/settings?tab=sso"
    When the IdP posts a valid Response for the target's user
    Then the sign-in succeeds
    And the SP redirects to "/settings?tab=sso"

  @cwe-601 @should
  Scenario Outline: A RelayState naming another site (<relay state>) does not redirect there
    Given the user starts signing in
    And the RelayState is "<relay state>"
    When the IdP posts a valid Response for the target's user
    Then the SP does not redirect to "https://attacker.example/"

    Examples:
      | relay state                     |
      | https://attacker.example/       |
      | //attacker.example/             |
      | https://attacker.example/?next=/ |
