@saml @signature
Feature: Forged signatures and documents
  The attacker holds a validly signed Response for an account of their own, or none at all, and forges one that
  claims the target's user. The SP must verify the signature with the IdP's configured key, over exactly the
  element it then reads, and refuse what no IdP would send.

  Background:
    Given the user starts signing in

  @saml-profiles-4.1.4.5 @must
  Scenario: A Response with every signature removed is refused
    When the IdP posts an unsigned Response
    Then the sign-in is refused

  @saml-profiles-4.1.4.3 @must
  Scenario Outline: A Response <forgery> is refused
    When the IdP posts a Response <forgery>
    Then the sign-in is refused

    Examples:
      | forgery                                          |
      | signed by a foreign key                          |
      | signed by an attacker with their certificate in KeyInfo |
      | whose NameID was changed after signing           |
      | with a comment in the NameID                     |
      | with a CDATA section in the NameID               |

  @saml-profiles-4.1.4.3 @must @xml
  Scenario: A second root element after the signed Assertion is refused
    When the IdP posts a Response with a second root element
    Then the sign-in is refused

  @saml-profiles-4.1.4.3 @must
  Scenario: A decoy Assertion of another namespace before the signed one is not read
    When the IdP posts a Response with a decoy Assertion of another namespace
    Then the sign-in is refused

  @saml-profiles-4.1.4.5 @must
  Scenario: A second, unsigned Assertion beside the signed one is refused
    When the IdP posts a Response with a second, unsigned Assertion
    Then the sign-in is refused

  @saml-core-5.4.2 @must @xsw
  Scenario Outline: A Response wrapped as <variant> is refused
    When the IdP posts a Response wrapped as <variant>
    Then the sign-in is refused

    Examples:
      | variant |
      | XSW1    |
      | XSW2    |
      | XSW3    |
      | XSW4    |
      | XSW5    |
      | XSW6    |
      | XSW7    |
      | XSW8    |

  @should @xml
  Scenario Outline: A Response with <entity> in a DOCTYPE is refused
    When the IdP posts a Response with <entity> in a DOCTYPE
    Then the sign-in is refused

    @cwe-776
    Examples: an entity the SP would expand
      | entity             |
      | an internal entity |
      | nested entities    |

    @cwe-611
    Examples: an entity the SP would fetch (XXE)
      | entity             |
      | an external entity |

  @cwe-400 @should @xml
  Scenario: A validly signed Response padded to 1 MiB is refused
    When the IdP posts a Response padded to 1 MiB
    Then the sign-in is refused

  @saml-profiles-4.1.4.3 @must @tenancy
  Scenario: Another workspace's IdP cannot sign this workspace's user in
    When another workspace's IdP posts a Response for the target's user
    Then the sign-in is refused
