"""A small fake AWS account behind botocore's Stubber, for the shadow replay on target aws (test_replay_shadow.py).

Each request the code under test sends is validated by botocore against the service model; just before that,
Stubber answers it, :class:`FakeAccount` queues the answer: made from what the account holds (what was created,
tagged, deleted), validated by the Stubber against the operation's output shape. So a whole build, probe and
remove runs through the real clients in whatever order the code makes its calls, and the test reads what the
account saw (:attr:`FakeAccount.calls`) and holds afterwards. An operation it does not know fails the test with
its name. The probes' HTTP is answered by :meth:`FakeAccount.http`: the forwarding model says what CloudFront
sends the origin (``simulate``), the API Gateway path model whether a route takes it (``api_route``), and the echo
function's own handler what the API answers. Nothing leaves the process.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from botocore import xform_name

from runbook_lib.apigateway.model import RestApi
from runbook_lib.apigateway.routing import api_route
from runbook_lib.aws import echo_lambda
from runbook_lib.cloudfront.model import simulate
from tests import stubbing
from tests.stubbing import ACCOUNT, WHEN, StubbedAws


@dataclass
class _Error:
    code: str
    message: str
    status: int = 400


@dataclass
class FakeAccount:
    region: str
    #: Every call answered: (service, operation, params).
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    #: Every HTTP request a probe sent: (method, url).
    sent: list[tuple[str, str]] = field(default_factory=list)
    distributions: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    functions: dict[str, dict[str, str]] = field(default_factory=dict)
    rest_apis: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    cf_functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    # --- the Stubber's feed -----------------------------------------------------------------------

    def attach(self, stub: StubbedAws) -> None:
        """Answer every call of ``stub``'s clients from this account."""
        for service, stubber in stub.stubbers.items():
            client = stub.target.client(service)

            def feed(params: dict[str, Any], model: Any, stubber: Any = stubber, service: str = service,
                     **_: Any) -> None:
                answer = self.answer(service, model.name, params)
                if isinstance(answer, _Error):
                    stubber.add_client_error(xform_name(model.name), answer.code, answer.message, answer.status)
                else:
                    stubber.add_response(xform_name(model.name), answer)

            client.meta.events.register_first(
                f"provide-client-params.{client.meta.service_model.service_id.hyphenize()}", feed)

    def answer(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any] | _Error:
        self.calls.append((service, operation, copy.deepcopy(params)))
        handler: Callable[[dict[str, Any]], dict[str, Any] | _Error] | None = getattr(
            self, f"_{service.replace('-', '_')}_{xform_name(operation)}", None)
        if handler is None:
            raise AssertionError(f"tests/fake_account.py does not answer {service}.{operation}: add it")
        return handler(params)

    # --- sts, iam, lambda ---------------------------------------------------------------------------

    def _sts_get_caller_identity(self, _: dict[str, Any]) -> dict[str, Any]:
        return stubbing.caller_identity()

    def _iam_get_role(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        if p["RoleName"] not in self.roles:
            return _Error("NoSuchEntity", f"The role with name {p['RoleName']} cannot be found.", 404)
        return stubbing.role(p["RoleName"], self.roles[p["RoleName"]])

    def _iam_create_role(self, p: dict[str, Any]) -> dict[str, Any]:
        self.roles[p["RoleName"]] = list(p.get("Tags") or [])
        return stubbing.role(p["RoleName"], self.roles[p["RoleName"]])

    def _iam_attach_role_policy(self, _: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _iam_list_attached_role_policies(self, _: dict[str, Any]) -> dict[str, Any]:
        basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        return {"AttachedPolicies": [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": basic}],
                "IsTruncated": False}

    def _iam_detach_role_policy(self, _: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _iam_delete_role(self, p: dict[str, Any]) -> dict[str, Any]:
        del self.roles[p["RoleName"]]
        return {}

    def _role_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{next(iter(self.roles), 'none')}"

    def _lambda_get_function(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        name = str(p["FunctionName"]).rsplit(":", 1)[-1]
        if name not in self.functions:
            return _Error("ResourceNotFoundException", f"Function not found: {name}", 404)
        return stubbing.function(name, self.region, self._role_arn(), self.functions[name])

    def _lambda_create_function(self, p: dict[str, Any]) -> dict[str, Any]:
        self.functions[p["FunctionName"]] = dict(p.get("Tags") or {})
        return stubbing.function_config(p["FunctionName"], self.region, p["Role"], "Active")

    def _lambda_add_permission(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"Statement": "{}"}

    def _lambda_delete_function(self, p: dict[str, Any]) -> dict[str, Any]:
        del self.functions[str(p["FunctionName"]).rsplit(":", 1)[-1]]
        return {}

    # --- API Gateway (REST) ---------------------------------------------------------------------------

    def _apigateway_get_rest_apis(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"items": [stubbing.rest_api(i, a["name"], a["tags"]) for i, a in self.rest_apis.items()]}

    def _apigateway_get_rest_api(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        api = self.rest_apis.get(p["restApiId"])
        if api is None:
            return _Error("NotFoundException", "Invalid API identifier specified", 404)
        return stubbing.rest_api(p["restApiId"], api["name"], api["tags"])

    def _apigateway_create_rest_api(self, p: dict[str, Any]) -> dict[str, Any]:
        api_id = self.new_id("echo").lower()
        self.rest_apis[api_id] = {"name": p["name"], "tags": dict(p.get("tags") or {}),
                                  "resources": {"/": {"id": self.new_id("r"), "methods": set()}}, "stages": set()}
        return stubbing.rest_api(api_id, p["name"], self.rest_apis[api_id]["tags"])

    def _apigateway_get_resources(self, p: dict[str, Any]) -> dict[str, Any]:
        resources = self.rest_apis[p["restApiId"]]["resources"]
        return {"items": [{"id": r["id"], "path": path, "resourceMethods": {m: {} for m in r["methods"]}}
                          for path, r in resources.items()]}

    def _apigateway_create_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        resources = self.rest_apis[p["restApiId"]]["resources"]
        parent = next(path for path, r in resources.items() if r["id"] == p["parentId"])
        path = parent.rstrip("/") + "/" + p["pathPart"]
        resources[path] = {"id": self.new_id("r"), "methods": set()}
        return {"id": resources[path]["id"], "parentId": p["parentId"], "pathPart": p["pathPart"], "path": path}

    def _apigateway_put_method(self, p: dict[str, Any]) -> dict[str, Any]:
        resources = self.rest_apis[p["restApiId"]]["resources"]
        next(r for r in resources.values() if r["id"] == p["resourceId"])["methods"].add(p["httpMethod"])
        return {"httpMethod": p["httpMethod"], "authorizationType": p["authorizationType"]}

    def _apigateway_put_integration(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"type": p["type"], "httpMethod": p.get("integrationHttpMethod", "POST"), "uri": p.get("uri", "")}

    def _apigateway_get_stages(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"item": [{"stageName": s} for s in sorted(self.rest_apis[p["restApiId"]]["stages"])]}

    def _apigateway_create_deployment(self, p: dict[str, Any]) -> dict[str, Any]:
        self.rest_apis[p["restApiId"]]["stages"].add(p["stageName"])
        return {"id": self.new_id("dep"), "createdDate": WHEN}

    def _apigateway_delete_rest_api(self, p: dict[str, Any]) -> dict[str, Any]:
        del self.rest_apis[p["restApiId"]]
        return {}

    def _apigatewayv2_get_apis(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"Items": []}

    def _s3_get_bucket_tagging(self, p: dict[str, Any]) -> _Error:
        return _Error("NoSuchBucket", f"The specified bucket {p['Bucket']} does not exist", 404)

    def _s3_head_bucket(self, _: dict[str, Any]) -> _Error:
        return _Error("404", "Not Found", 404)

    # --- CloudFront ----------------------------------------------------------------------------------

    def _distribution(self, dist_id: str) -> dict[str, Any]:
        d = self.distributions[dist_id]
        return {**stubbing.distribution(dist_id, d["config"], d["status"]), "DomainName": d["domain"]}

    def _cloudfront_create_distribution_with_tags(self, p: dict[str, Any]) -> dict[str, Any]:
        dist_id = self.new_id("ESHADOW")
        config = p["DistributionConfigWithTags"]["DistributionConfig"]
        self.distributions[dist_id] = {"config": copy.deepcopy(config), "status": "InProgress", "etag": "E1",
                                       "tags": list(p["DistributionConfigWithTags"]["Tags"]["Items"]),
                                       "domain": f"{dist_id.lower()}.cloudfront.net"}
        return {"Distribution": self._distribution(dist_id), "ETag": "E1",
                "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist_id}"}

    def add_distribution(self, dist_id: str, config: dict[str, Any], tags: list[dict[str, str]] | None = None) -> None:
        """A distribution that is already in the account (the user's)."""
        self.distributions[dist_id] = {"config": copy.deepcopy(config), "status": "Deployed", "etag": "EUSER1",
                                       "tags": tags or [], "domain": f"{dist_id.lower()}.cloudfront.net"}

    def _cloudfront_get_distribution(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        if p["Id"] not in self.distributions:
            return _Error("NoSuchDistribution", "The specified distribution does not exist.", 404)
        d = self.distributions[p["Id"]]
        answer = {"Distribution": self._distribution(p["Id"]), "ETag": d["etag"]}
        d["status"] = "Deployed"  # the next read finds it deployed
        return answer

    def _cloudfront_get_distribution_config(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        if p["Id"] not in self.distributions:
            return _Error("NoSuchDistribution", "The specified distribution does not exist.", 404)
        d = self.distributions[p["Id"]]
        return {"DistributionConfig": copy.deepcopy(d["config"]), "ETag": d["etag"]}

    def _cloudfront_update_distribution(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        d = self.distributions[p["Id"]]
        if p["IfMatch"] != d["etag"]:
            return _Error("PreconditionFailed", "The If-Match version is missing or not valid.", 412)
        d.update(config=copy.deepcopy(p["DistributionConfig"]), status="InProgress", etag=d["etag"] + "u")
        return {"Distribution": self._distribution(p["Id"]), "ETag": d["etag"]}

    def _cloudfront_delete_distribution(self, p: dict[str, Any]) -> dict[str, Any] | _Error:
        d = self.distributions[p["Id"]]
        if d["config"]["Enabled"] or d["status"] != "Deployed":
            return _Error("DistributionNotDisabled", "The distribution you are trying to delete has not been "
                          "disabled.", 409)
        del self.distributions[p["Id"]]
        return {}

    def _cloudfront_list_distributions(self, _: dict[str, Any]) -> dict[str, Any]:
        return stubbing.distribution_list(*[
            {**stubbing.distribution_summary(i, d["config"], d["status"]), "DomainName": d["domain"]}
            for i, d in self.distributions.items()])

    def _cloudfront_list_tags_for_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        dist_id = str(p["Resource"]).rsplit("/", 1)[-1]
        return {"Tags": {"Items": list(self.distributions[dist_id]["tags"])}}

    def _cloudfront_list_cache_policies(self, _: dict[str, Any]) -> dict[str, Any]:
        return stubbing.cache_policy_list(*[
            stubbing.cache_policy(i, p["config"]) for i, p in self.policies.items() if p["kind"] == "cache"])

    def _cloudfront_list_origin_request_policies(self, _: dict[str, Any]) -> dict[str, Any]:
        found = [{"Type": "custom", "OriginRequestPolicy": {"Id": i, "LastModifiedTime": WHEN,
                                                            "OriginRequestPolicyConfig": p["config"]}}
                 for i, p in self.policies.items() if p["kind"] == "origin-request"]
        return {"OriginRequestPolicyList": {"MaxItems": 100, "Quantity": len(found),
                                            **({"Items": found} if found else {})}}

    def _cloudfront_list_origin_access_controls(self, _: dict[str, Any]) -> dict[str, Any]:
        return stubbing.oac_list()

    def _cloudfront_list_functions(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"FunctionList": {"MaxItems": 100, "Quantity": 0}}

    # --- what the probes reach: CloudFront, then API Gateway and the echo ----------------------------

    def http(self, method: str, url: str, headers: dict[str, str] | None = None,
             data: Any = None) -> requests.Response:
        """The answer a probe gets at ``url``: https://<a distribution of this account>/..."""
        self.sent.append((method, url))
        parts = urlsplit(url)
        dist_id = next(i for i, d in self.distributions.items() if d["domain"] == parts.hostname)
        config = self.distributions[dist_id]["config"]
        request = {"method": method, "scheme": parts.scheme, "path": parts.path, "query": parts.query,
                   "headers": {**requests.utils.default_headers(), "Host": parts.hostname or "", **(headers or {})},
                   "http_version": "1.1"}
        body = None if data is None else data if isinstance(data, str) else bytes(data).decode()
        if body is not None:
            request["body"] = body
        result = simulate(config, request)
        if result.edge_status is not None or result.origin_request is None:
            return _response(result.edge_status or 502, b"<html>CloudFront</html>", {"Via": "1.1 cloudfront"})
        if result.origin_status is not None:
            return _response(result.origin_status, b'{"message":"Forbidden"}', {"x-amzn-RequestId": "r"})
        return self._api(result.origin_id or "", result.origin_request, config, body)

    def _api(self, origin_id: str, sent: dict[str, Any], config: dict[str, Any], body: str | None) -> requests.Response:
        origin = next(o for o in config["Origins"]["Items"] if o["Id"] == origin_id)
        api_id = str(origin["DomainName"]).split(".", 1)[0]
        api = self.rest_apis[api_id]
        model = RestApi(id=api_id, resources={p: sorted(r["methods"]) for p, r in api["resources"].items()},
                        stages=sorted(api["stages"]))
        route = api_route(model, sent["method"], sent["path"])
        if route["status"] != 200:
            return _response(int(route["status"] or 500), json.dumps({"message": route["message"]}).encode(),
                             {"x-amzn-RequestId": "r"})
        headers = {k: [v] for k, v in sent["headers"].items()}
        query = parse_qs(sent["query"], keep_blank_values=True) if sent["query"] else None
        parts = sent["path"].split("/", 2)  # "/prod/api/data": the stage, then the path the API's resources match
        event = {"httpMethod": sent["method"], "path": "/" + (parts[2] if len(parts) > 2 else ""),
                 "requestContext": {"path": sent["path"], "stage": route["stage"]}, "resource": route["route"],
                 "multiValueQueryStringParameters": query, "multiValueHeaders": headers,
                 "body": base64.b64encode(body.encode()).decode() if body else None, "isBase64Encoded": bool(body)}
        answer = echo_lambda.handler(event, None)
        return _response(answer["statusCode"], answer["body"].encode(), answer["headers"])


def _response(status: int, body: bytes, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = status, body
    response.headers.update(headers)
    return response
