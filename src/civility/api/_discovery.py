"""civility's own discovery document for the ``commentanalyzer`` v1alpha1 surface: the names,
types and paths Google's clients build from, with descriptions of our own."""

from __future__ import annotations

from typing import Any

from civility import __version__

_SCORE_TYPES = ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW"]
_SCORE_TYPE_HELP = [
    "Not set; treated as PROBABILITY.",
    "A probability in [0, 1]: how likely a reader perceives the comment as having the attribute.",
    "Not supported by civility.",
    "Not supported by civility.",
    "Not supported by civility.",
]


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"$ref": name, "description": description}


def _schema(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"id": name, "type": "object", "description": description, "properties": properties}


def _param(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "location": "query", "description": description, **extra}


SCHEMAS: dict[str, Any] = {
    "TextEntry": _schema(
        "TextEntry",
        "A piece of text.",
        {
            "text": _string("The text; at most 20480 bytes of UTF-8."),
            "type": {
                "type": "string",
                "description": "How the text is written.",
                "enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"],
                "enumDescriptions": [
                    "Treated as plain text.",
                    "Plain text.",
                    "HTML: scored on its text; offsets point into the HTML.",
                ],
            },
        },
    ),
    "Context": _schema(
        "Context",
        "What surrounds the comment (accepted, not used in scoring).",
        {
            "entries": {
                "type": "array",
                "items": {"$ref": "TextEntry"},
                "description": "Texts that give context.",
            },
            "articleAndParentComment": _ref(
                "ArticleAndParentComment", "The article and the comment replied to."
            ),
        },
    ),
    "ArticleAndParentComment": _schema(
        "ArticleAndParentComment",
        "The article and the comment being replied to.",
        {
            "article": _ref("TextEntry", "The article."),
            "parentComment": _ref("TextEntry", "The comment being replied to."),
        },
    ),
    "AttributeParameters": _schema(
        "AttributeParameters",
        "How to score one attribute.",
        {
            "scoreType": {
                "type": "string",
                "description": "The kind of score wanted.",
                "enum": _SCORE_TYPES,
                "enumDescriptions": _SCORE_TYPE_HELP,
            },
            "scoreThreshold": {
                "type": "number",
                "format": "float",
                "description": "Leave the attribute out when it scores below this.",
            },
        },
    ),
    "Score": _schema(
        "Score",
        "One score.",
        {
            "value": {"type": "number", "format": "float", "description": "The score."},
            "type": {
                "type": "string",
                "description": "The kind of score.",
                "enum": _SCORE_TYPES,
                "enumDescriptions": _SCORE_TYPE_HELP,
            },
        },
    ),
    "SpanScore": _schema(
        "SpanScore",
        "A score for a stretch of the comment.",
        {
            "begin": {
                "type": "integer",
                "format": "int32",
                "description": "Start, in UTF-16 code units of the text sent.",
            },
            "end": {
                "type": "integer",
                "format": "int32",
                "description": "End (exclusive), in UTF-16 code units of the text sent.",
            },
            "score": _ref("Score", "The stretch's score."),
        },
    ),
    "AttributeScores": _schema(
        "AttributeScores",
        "Scores for one attribute.",
        {
            "summaryScore": _ref("Score", "The score of the whole comment."),
            "spanScores": {
                "type": "array",
                "items": {"$ref": "SpanScore"},
                "description": "Stretches of the comment and their scores.",
            },
        },
    ),
    "AnalyzeCommentRequest": _schema(
        "AnalyzeCommentRequest",
        "A comment to score.",
        {
            "comment": _ref("TextEntry", "The comment."),
            "context": _ref("Context", "What surrounds the comment."),
            "requestedAttributes": {
                "type": "object",
                "additionalProperties": {"$ref": "AttributeParameters"},
                "description": "The attributes to score, by name (a *_EXPERIMENTAL name is "
                "answered by its production attribute).",
            },
            "languages": _strings(
                "Languages of the comment (ISO 639-1); civility supports en. When omitted, the "
                "language is detected, and a comment clearly in another one is refused."
            ),
            "spanAnnotations": {
                "type": "boolean",
                "description": "Return the spans behind each score.",
            },
            "doNotStore": {"type": "boolean", "description": "Keep nothing of this comment."},
            "clientToken": _string("Echoed in the response."),
            "sessionId": _string("The client's session, for abuse protection."),
            "communityId": _string("The community; its feedback calibrates its scores."),
        },
    ),
    "AnalyzeCommentResponse": _schema(
        "AnalyzeCommentResponse",
        "The scores of a comment.",
        {
            "attributeScores": {
                "type": "object",
                "additionalProperties": {"$ref": "AttributeScores"},
                "description": "Scores by attribute name.",
            },
            "languages": _strings("The languages the comment was scored in."),
            "detectedLanguages": _strings("The languages detected, most likely first."),
            "clientToken": _string("The request's clientToken."),
            "civilityAdapter": _string(
                "civility's own field, never Perspective's: the site adapter that scored the "
                "comment (SITE/vN); absent when the shipped model scored it."
            ),
        },
    ),
    "SuggestCommentScoreRequest": _schema(
        "SuggestCommentScoreRequest",
        "The scores a community would give a comment.",
        {
            "comment": _ref("TextEntry", "The comment."),
            "context": _ref("Context", "What surrounds the comment."),
            "attributeScores": {
                "type": "object",
                "additionalProperties": {"$ref": "AttributeScores"},
                "description": "Suggested scores by attribute name.",
            },
            "languages": _strings("Languages of the comment."),
            "clientToken": _string("Echoed in the response."),
            "sessionId": _string("The client's session."),
            "communityId": _string("The community whose calibration this feedback feeds."),
        },
    ),
    "SuggestCommentScoreResponse": _schema(
        "SuggestCommentScoreResponse",
        "Feedback recorded.",
        {
            "clientToken": _string("The request's clientToken."),
            "detectedLanguages": _strings("The languages detected."),
            "requestedLanguages": _strings("The languages the request named."),
        },
    ),
}

PARAMETERS: dict[str, Any] = {
    "key": _param("API key (a civility key from `civility keys create`)."),
    "access_token": _param("OAuth access token (not used by civility)."),
    "alt": _param(
        "Response format.", default="json", enum=["json"], enumDescriptions=["JSON responses."]
    ),
    "callback": _param("JSONP callback."),
    "fields": _param("Fields to include in the response."),
    "oauth_token": _param("OAuth 2.0 token (not used by civility)."),
    "prettyPrint": {
        "type": "boolean",
        "default": "true",
        "location": "query",
        "description": "Indent the JSON response.",
    },
    "quotaUser": _param("Names the user a request counts against (accepted, not used)."),
    "upload_protocol": _param("Upload protocol."),
    "uploadType": _param("Upload type."),
    "$.xgafv": _param(
        "Error format version.",
        enum=["1", "2"],
        enumDescriptions=["v1 error format", "v2 error format"],
    ),
}


def _method(name: str, request: str, response: str, description: str) -> dict[str, Any]:
    path = f"v1alpha1/comments:{name}"
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": path,
        "flatPath": path,
        "httpMethod": "POST",
        "parameters": {},
        "parameterOrder": [],
        "request": {"$ref": request},
        "response": {"$ref": response},
        "description": description,
    }


def discovery_document(root_url: str) -> dict[str, Any]:
    """The document for a server reachable at ``root_url`` (ending in ``/``)."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": "v1alpha1",
        "revision": __version__,
        "title": "civility comment analyzer (Perspective-compatible)",
        "description": "Scores comments for toxicity and related attributes, self-hosted.",
        "ownerDomain": "civility.local",
        "ownerName": "civility",
        "protocol": "rest",
        "rootUrl": root_url,
        "baseUrl": root_url,
        "basePath": "/",
        "servicePath": "",
        "batchPath": "batch",
        "documentationLink": "https://github.com/civility/civility",
        "icons": {"x16": "", "x32": ""},
        "parameters": PARAMETERS,
        "auth": {},
        "schemas": SCHEMAS,
        "resources": {
            "comments": {
                "methods": {
                    "analyze": _method(
                        "analyze",
                        "AnalyzeCommentRequest",
                        "AnalyzeCommentResponse",
                        "Scores a comment for the requested attributes.",
                    ),
                    "suggestscore": _method(
                        "suggestscore",
                        "SuggestCommentScoreRequest",
                        "SuggestCommentScoreResponse",
                        "Records the scores a community would give; they calibrate its scores.",
                    ),
                }
            }
        },
    }
