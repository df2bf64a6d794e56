@saml
Feature: Signing in with SAML
  The mock IdP posts a signed Response to the SP's assertion consumer service (HTTP-POST binding) for the target's
  user, as Okta or Entra write them; the SP signs the user in by its rules (the target's success_status and
  success_cookie).

  @saml-profiles-4.1.4.2 @must @okta
  Scenario: A sign-in with Okta's Response succeeds and opens a session
    Given the IdP is Okta
    And the user starts signing in
    When the IdP posts a valid Response for the target's user
    Then the sign-in succeeds
    And the SP sets the session cookie

  @saml-profiles-4.1.4.2 @must @entra
  Scenario: A sign-in with Entra's Response succeeds and opens a session
    Given the IdP is Entra
    And the user starts signing in
    When the IdP posts a valid Response for the target's user
    Then the sign-in succeeds
    And the SP sets the session cookie

  @saml-profiles-4.1.4.3 @must @sp-initiated
  Scenario: A Response answering the SP's own AuthnRequest signs the user in
    Given the SP has started a sign-in
    When the IdP posts a valid Response for the target's user
    Then the sign-in succeeds

  # An SP without a login_url only ever sees unsolicited Responses and must accept them; an SP that starts its own
  # sign-ins should refuse them, since nothing ties an unsolicited Response to the browser posting it.
  @saml-profiles-4.1.5 @should @idp-initiated
  Scenario: An IdP-initiated sign-in is accepted or refused as the target says
    When the IdP posts an unsolicited Response for the target's user
    Then the sign-in succeeds only if the target accepts IdP-initiated sign-ins

  # An SP that provisions unknown users on their first sign-in declares a deviation for this scenario.
  @saml-profiles-4.1.4.3 @should
  Scenario: A valid Response for a user the SP does not know signs no one in
    Given the user starts signing in
    When the IdP posts a valid Response for "nobody.{{run}}@example.com"
    Then the sign-in is refused

  @saml-profiles-4.1.4.3 @should @time
  Scenario: A Response that expired a little less than the clock skew ago still signs in
    Given the user starts signing in
    When the IdP posts a Response that expired just within the clock skew
    Then the sign-in succeeds

  @saml-core-2.5.1.2 @should @time
  Scenario: A Response valid from a little less than the clock skew ahead still signs in
    Given the user starts signing in
    When the IdP posts a Response that becomes valid just within the clock skew
    Then the sign-in succeeds
