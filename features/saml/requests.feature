@saml @request
Feature: Answering the SP's request, once
  A Response answers one AuthnRequest of the SP's (its InResponseTo) and is used once: the SP refuses Responses to
  requests it never sent, a second answer to a request, and the same Response posted again.

  @saml-profiles-4.1.4.3 @must @sp-initiated
  Scenario: A Response to a request the SP never sent is refused
    Given the SP has started a sign-in
    When the IdP posts a Response to a request the SP never sent
    Then the sign-in is refused

  @saml-profiles-4.1.4.3 @must @sp-initiated
  Scenario: A second Response to an already answered request is refused
    Given the SP has started a sign-in
    When the IdP posts a valid Response for the target's user
    Then the sign-in succeeds
    When the IdP posts a second Response to the same request
    Then the sign-in is refused

  @saml-profiles-4.1.4.5 @must @replay
  Scenario: The same Response posted twice signs in once
    Given the user starts signing in
    When the IdP posts a valid Response for the target's user
    Then the sign-in succeeds
    When the same Response is posted again
    Then the sign-in is refused
