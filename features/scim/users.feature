@scim @users
Feature: SCIM users
  A SCIM service provider creates, reads, updates and deletes users as RFC 7644 §3 describes.

  @rfc7644-3.3 @must
  Scenario: A created user is returned with its id and can be read back
    Given a user "alice"
    When I read user "alice"
    Then the response status is 200
    And the response header "Content-Type" contains "application/scim+json"
    And the response body at "id" is "{{alice}}"
    And the response body at "userName" is "{{alice.userName}}"
    And the response body at "meta.resourceType" is "User"

  @rfc7644-3.3 @must
  Scenario: A second user with the same userName is refused with 409 uniqueness
    Given a user "alice"
    When I send a POST request to "/Users" with body:
      """
      {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{alice.userName}}"}
      """
    Then the request was refused with 409 and scimType "uniqueness"

  @rfc7643-4.1.1 @must
  Scenario: The password is write-only and never returned
    Given a user "bob" with:
      """
      {"password": "t1meMa$heen-Feature"}
      """
    When I read user "bob"
    Then the response body at "password" is absent

  @rfc7644-3.5.2.3 @must
  Scenario: A PATCH replace changes one attribute and keeps the others
    Given a user "carol" with:
      """
      {"name": {"givenName": "Carol", "familyName": "Keep"}}
      """
    When I patch user "carol" with:
      """
      [{"op": "replace", "path": "name.givenName", "value": "Caroline"}]
      """
    Then the request succeeded
    And user "carol" has "name.givenName" equal to "Caroline"
    And user "carol" has "name.familyName" equal to "Keep"

  @rfc7644-3.6 @must
  Scenario: A deleted user is gone
    Given a user "dave"
    When I delete user "dave"
    Then the response status is 204
    And user "dave" no longer exists
