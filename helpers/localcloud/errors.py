"""Errors of the local cloud, as data. Raised anywhere, rendered once (OSS: `xml.render_error`,
STS and RAM: `rpc_app`).

    LocalCloudError
    ├── OssError                 status, code, message, ec, extra elements
    │   ├── InvalidArgument, InvalidDigest, InvalidObjectName, InvalidBucketName, MalformedXML,
    │   │   InvalidPart, InvalidPartOrder, EntityTooSmall, EntityTooLarge, InvalidRequest,
    │   │   MalformedPOSTRequest, InvalidPolicyDocument, IncorrectNumberOfFilesInPOSTRequest,
    │   │   MissingContentLength, InvalidEncryptionAlgorithm, FieldItemTooLong          (400)
    │   ├── AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, InvalidSecurityToken,
    │   │   SecurityTokenExpired, RequestTimeTooSkewed                                    (403)
    │   ├── NoSuchBucket, NoSuchKey, NoSuchUpload, NoSuchCORSConfiguration                (404)
    │   ├── MethodNotAllowed (405), BucketAlreadyExists, BucketNotEmpty, FileAlreadyExists,
    │   │   PositionNotEqualToLength, ObjectNotAppendable (409), PreconditionFailed (412),
    │   │   InvalidRange (416), InternalError (500)
    └── StsError                 status, code, message (rendered as STS or RAM JSON: both are
                                 RPC-style APIs with one error document)

This module imports nothing from Starlette.
"""

from __future__ import annotations

from typing import ClassVar

# Placeholder error-centre code where the reference names none (EC values are informative only).
DEFAULT_EC = "0000-00000000"


class LocalCloudError(Exception):
    """Base of every error the local cloud renders to a client."""


class OssError(LocalCloudError):
    """An OSS error: HTTP status, code, message, EC, and extra XML child elements."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "InvalidRequest"
    default_message: ClassVar[str] = ""
    ec: str = DEFAULT_EC                 # a class default an instance may override

    def __init__(self, message: str | None = None, *, ec: str | None = None,
                 headers: dict[str, str] | None = None, **extra: str) -> None:
        self.message = message if message is not None else self.default_message
        if ec is not None:
            self.ec = ec
        self.extra: dict[str, str] = {k: str(v) for k, v in extra.items()}
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"{self.code}: {self.message}")


def _err(name: str, status: int, code: str, message: str, ec: str = DEFAULT_EC) -> type[OssError]:
    return type(name, (OssError,), {"status": status, "code": code, "default_message": message,
                                    "ec": ec, "__doc__": f"{status} {code}"})


InvalidArgument = _err("InvalidArgument", 400, "InvalidArgument", "Invalid argument.")
InvalidDigest = _err("InvalidDigest", 400, "InvalidDigest", "The Content-MD5 you specified was invalid.",
                     "0002-00000016")
# Messages and ECs of the name rules: reference §2 (the 400 page writes them without a full stop).
InvalidObjectName = _err("InvalidObjectName", 400, "InvalidObjectName", "The specified object is not valid",
                         "0016-00000005")
InvalidBucketName = _err("InvalidBucketName", 400, "InvalidBucketName", "The specified bucket is not valid.",
                         "0015-00000001")
MalformedXML = _err("MalformedXML", 400, "MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our published "
                    "schema.")
InvalidPart = _err("InvalidPart", 400, "InvalidPart",
                   "One or more of the specified parts could not be found or the specified entity tag "
                   "might not have matched the part's entity tag.")
InvalidPartOrder = _err("InvalidPartOrder", 400, "InvalidPartOrder",
                        "The list of parts was not in ascending order. Parts list must specified in order "
                        "by part number.")
EntityTooSmall = _err("EntityTooSmall", 400, "EntityTooSmall",
                      "Your proposed upload is smaller than the minimum allowed size.")
EntityTooLarge = _err("EntityTooLarge", 400, "EntityTooLarge",
                      "Your proposed upload exceeds the maximum allowed size.")
InvalidRequest = _err("InvalidRequest", 400, "InvalidRequest", "Invalid request.")
MalformedPOSTRequest = _err("MalformedPOSTRequest", 400, "MalformedPOSTRequest",
                            "The body of your POST request is not well-formed multipart/form-data.")
InvalidPolicyDocument = _err("InvalidPolicyDocument", 400, "InvalidPolicyDocument", "Invalid Policy.")
IncorrectNumberOfFilesInPOSTRequest = _err(
    "IncorrectNumberOfFilesInPOSTRequest", 400, "IncorrectNumberOfFilesInPOSTRequest",
    "POST requires exactly one file upload per request.")
FieldItemTooLong = _err("FieldItemTooLong", 400, "FieldItemTooLong",
                        "Your POST request fields preceding the upload file was too large.")
MissingContentLength = _err("MissingContentLength", 411, "MissingContentLength",
                            "You must provide the Content-Length HTTP header.")
AccessDenied = _err("AccessDenied", 403, "AccessDenied", "AccessDenied")
SignatureDoesNotMatch = _err("SignatureDoesNotMatch", 403, "SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature you "
                             "provided. Check your key and signing method.", "0002-00000040")
InvalidAccessKeyId = _err("InvalidAccessKeyId", 403, "InvalidAccessKeyId",
                          "The OSS Access Key Id you provided does not exist in our records.",
                          "0002-00000002")
InvalidSecurityToken = _err("InvalidSecurityToken", 403, "InvalidSecurityToken",
                            "The security token you provided is invalid.", "0002-00000006")
SecurityTokenExpired = _err("SecurityTokenExpired", 403, "SecurityTokenExpired",
                            "The security token you provided has expired.", "0002-00000007")
RequestTimeTooSkewed = _err("RequestTimeTooSkewed", 403, "RequestTimeTooSkewed",
                            "The difference between the request time and the current time is too large.",
                            "0002-00000504")
NoSuchBucket = _err("NoSuchBucket", 404, "NoSuchBucket", "The specified bucket does not exist.",
                    "0015-00000101")
NoSuchKey = _err("NoSuchKey", 404, "NoSuchKey", "The specified key does not exist.", "0026-00000001")
NoSuchUpload = _err("NoSuchUpload", 404, "NoSuchUpload",
                    "The specified upload does not exist. The upload ID may be invalid, or the upload may "
                    "have been aborted or completed.", "0042-00000002")
NoSuchCORSConfiguration = _err("NoSuchCORSConfiguration", 404, "NoSuchCORSConfiguration",
                               "The CORS Configuration does not exist.")
MethodNotAllowed = _err("MethodNotAllowed", 405, "MethodNotAllowed",
                        "The specified method is not allowed against this resource.")
BucketAlreadyExists = _err("BucketAlreadyExists", 409, "BucketAlreadyExists",
                           "The requested bucket name is not available. The bucket namespace is shared by "
                           "all users of the system. Please select a different name and try again.")
BucketNotEmpty = _err("BucketNotEmpty", 409, "BucketNotEmpty", "The bucket you tried to delete is not empty.",
                      "0015-00000301")
FileAlreadyExists = _err("FileAlreadyExists", 409, "FileAlreadyExists", "The object you specified already "
                         "exists and can not be overwritten.")
PositionNotEqualToLength = _err("PositionNotEqualToLength", 409, "PositionNotEqualToLength",
                                "Position is not equal to file length")
ObjectNotAppendable = _err("ObjectNotAppendable", 409, "ObjectNotAppendable",
                           "The object is not appendable")
PreconditionFailed = _err("PreconditionFailed", 412, "PreconditionFailed",
                          "At least one of the pre-conditions you specified did not hold.")
InvalidRange = _err("InvalidRange", 416, "InvalidRange", "The requested range cannot be satisfied")
InternalError = _err("InternalError", 500, "InternalError",
                     "We encountered an internal error. Please try again.")


class CallbackFailed(OssError):
    """203 CallbackFailed: the object is stored but the app server's callback did not succeed."""

    status = 203
    code = "CallbackFailed"
    default_message = "Error status : -1.OSS can not connect to your callbackUrl, please check it"
    ec = "0007-00000203"


class StsError(LocalCloudError):
    """An STS or RAM error, rendered as their JSON (`RequestId`, `HostId`, `Code`, `Message`,
    `Recommend`)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


# Appended by the CORS/PostObject module. OSS answers a refused CORS preflight with 403 AccessForbidden
# [doc: ossutil cors-options "If no rule matches, OSS returns a 403 AccessForbidden error"]; the message is
# the one S3-compatible services use (OSS's exact text is unverified).
AccessForbidden = _err("AccessForbidden", 403, "AccessForbidden",
                       "CORSResponse: This CORS request is not allowed. This is usually because the "
                       "evalution of Origin, request method / Access-Control-Request-Method or "
                       "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
