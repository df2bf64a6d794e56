@scim @idp @okta
Feature: What Okta sends
  Okta's SCIM client deactivates with a path-less replace, renames pushed groups with a value that carries the
  group's read-only id, and changes membership with a remove and an add in one request. Sources: Okta's "SCIM 2.0
  protocol reference" and scenarios/okta/README.md.

  @must
  Scenario: Okta provisions a user after looking it up
    When Okta provisions user "erin"
    Then user "erin" is active
    And user "erin" has no "password"

  @must
  Scenario: Okta deactivates and reactivates with a path-less replace
    Given a user "alice"
    When Okta deactivates user "alice"
    Then user "alice" is inactive
    When Okta reactivates user "alice"
    Then user "alice" is active

  @must
  Scenario: Okta renames a group with its read-only id in the value
    Given a group "eng"
    When Okta renames group "eng" to "{{run}} Engineering"
    Then group "eng" has "displayName" equal to "{{run}} Engineering"

  @must
  Scenario: Okta pushes membership changes
    Given a user "alice"
    And a user "bob"
    And a group "eng" with members "alice"
    When Okta adds member "bob" to group "eng"
    Then group "eng" has exactly the members "alice" and "bob"
    When Okta removes member "alice" from group "eng"
    Then group "eng" has exactly the members "bob"
