@saml @conditions
Feature: Validly signed Responses with wrong values
  Each Response is signed by the IdP's real key, so only the SP's judgement of its contents refuses it: who it is
  for, where it was meant to go, who issued it, when it is valid, and whether the IdP succeeded.

  Background:
    Given the user starts signing in

  @saml-core-2.5.1.4 @must
  Scenario: An assertion for another SP's Audience is refused
    When the IdP posts a Response with the Audience "https://other.example.invalid/metadata"
    Then the sign-in is refused

  @saml-profiles-4.1.4.2 @must
  Scenario: An assertion without an AudienceRestriction is refused
    When the IdP posts a Response without an Audience
    Then the sign-in is refused

  @must
  Scenario Outline: A Response whose <element> is another party's is refused
    When the IdP posts a Response with the <element> "<value>"
    Then the sign-in is refused

    @saml-profiles-4.1.4.3
    Examples: the bearer confirmation names another ACS
      | element   | value                                   |
      | Recipient | https://other.example.invalid/saml/acs  |

    @saml-bindings-3.5.5.2
    Examples: the Response was sent to another ACS
      | element     | value                                  |
      | Destination | https://other.example.invalid/saml/acs |

    @saml-profiles-4.1.4.2
    Examples: another IdP issued it, signed with the trusted key
      | element | value                                  |
      | Issuer  | https://other.example.invalid/metadata |

  @saml-profiles-4.1.4.3 @must @time
  Scenario: An assertion that expired 10 minutes ago is refused
    When the IdP posts a Response that expired 10 minutes ago
    Then the sign-in is refused

  @saml-profiles-4.1.4.3 @must @time
  Scenario: An assertion that expired just beyond the clock skew is refused
    When the IdP posts a Response that expired just beyond the clock skew
    Then the sign-in is refused

  @saml-core-2.5.1.2 @must @time
  Scenario: An assertion that becomes valid only beyond the clock skew is refused
    When the IdP posts a Response that becomes valid just beyond the clock skew
    Then the sign-in is refused

  @saml-core-2.5.1.2 @must @time
  Scenario: An assertion that becomes valid in 10 minutes is refused
    When the IdP posts a Response that becomes valid in 10 minutes
    Then the sign-in is refused

  @saml-core-3.2.2.2 @must
  Scenario Outline: A Response with status <status> signs no one in, whatever assertion it holds
    When the IdP posts a Response with status <status>
    Then the sign-in is refused

    Examples:
      | status                |
      | Responder/AuthnFailed |
      | Requester             |
