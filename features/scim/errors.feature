@scim @errors
Feature: Errors
  A SCIM server answers bad requests with the Error schema, a string status and a scimType where RFC 7644 §3.12
  defines one.

  @rfc7644-3.12 @must
  Scenario: Malformed JSON is invalidSyntax
    When I send a POST request to "/Users" with body:
      """
      {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 
      """
    Then the request was refused with 400 and scimType "invalidSyntax"
    And the response body at "status" is "400"

  @rfc7644-3.12 @must
  Scenario: An unknown id is 404
    When I send a GET request to "/Users/{{run}}-no-such-user"
    Then the request was refused with 404

  @rfc7643-2.1 @must
  Scenario: A user without its required userName is refused
    When I send a POST request to "/Users" with body:
      """
      {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "No Name"}
      """
    Then the request was refused with 400 and scimType "invalidValue"

  @rfc7644-3.5.2 @must
  Scenario: A failed PATCH changes nothing
    Given a user "alice" with:
      """
      {"displayName": "Before"}
      """
    When I patch user "alice" with:
      """
      [{"op": "replace", "path": "displayName", "value": "After"}, {"op": "remove", "path": "userName"}]
      """
    Then the response status is one of 400
    And user "alice" has "displayName" equal to "Before"
