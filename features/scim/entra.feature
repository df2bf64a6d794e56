@scim @idp @entra
Feature: What Microsoft Entra ID sends
  Entra's provisioning service sends PATCH requests that a strict reading of RFC 7644 may refuse. A server that
  works with Entra must apply them as Entra means them. Sources: Microsoft's "Known issues and resolutions with SCIM
  2.0 protocol compliance of the Microsoft Entra user provisioning service" and scenarios/entra-*/README.md.

  Background:
    Given a user "alice"
    And a user "bob"
    And a user "carol"

  @must
  Scenario: Entra in legacy mode removes one member by value list
    Given a group "eng" with members "alice", "bob" and "carol"
    When Entra in legacy mode removes member 'bob' from group 'eng'
    Then group "eng" has exactly the members "alice" and "carol"

  @must
  Scenario: Entra in aadOptscim062020 mode removes members with value filters
    Given a group "eng" with members "alice", "bob" and "carol"
    When Entra in aadOptscim062020 mode removes members "alice" and "carol" from group "eng"
    Then group "eng" has exactly the members "bob"

  @must
  Scenario: Entra in legacy mode deactivates with the string "False" and reactivates with "True"
    When Entra in legacy mode deactivates user "alice"
    Then user "alice" is inactive
    When Entra in legacy mode reactivates user "alice"
    Then user "alice" is active

  @must
  Scenario: Entra in aadOptscim062020 mode updates attributes with dotted keys
    When Entra in aadOptscim062020 mode updates user "alice" with given name "Ally" and work email "ally@example.com"
    Then user "alice" has "name.givenName" equal to "Ally"
    And user "alice" has "emails[type eq \"work\"].value" equal to "ally@example.com"
    And user "alice" has no "\"name.givenName\""

  @must
  Scenario: Entra sets a manager by its bare id
    When Entra in legacy mode sets the manager of user "bob" to "alice"
    Then user "bob" has "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value" equal to "{{alice}}"

  @must
  Scenario: Entra provisions a user and a group, then adds members
    When Entra in legacy mode provisions user "dana"
    And Entra in legacy mode creates group "ops"
    And Entra in legacy mode adds members "dana" and "alice" to group "ops"
    Then group "ops" has exactly the members "dana" and "alice"
    And user "dana" is active
