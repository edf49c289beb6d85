"""Accounts API: session login/logout (throttled), the current user, own API tokens, users (admin)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.api.serializers import (
    ApiTokenSerializer,
    LoginSerializer,
    MeSerializer,
    NewApiTokenSerializer,
    UserSerializer,
)
from accounts.models import ApiToken
from accounts.services import (
    Keep,
    api_token_create,
    api_token_revoke,
    user_create,
    user_delete,
    user_update,
)
from accounts.throttling import LoginThrottle


class LoginView(APIView):
    """Log in with username and password (a session cookie); failed attempts are throttled per client address.

    CSRF-protected like Django's login forms (else another site could log a browser in to its own account):
    GET sets the `csrftoken` cookie, POST sends it back in the X-CSRFToken header. Scripts use API keys.
    """

    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]  # checks only: authenticate's user_login_failed signal counts failures

    def get_throttles(self) -> list[BaseThrottle]:
        return [] if self.request.method == "GET" else super().get_throttles()

    @extend_schema(responses={200: {"type": "object", "properties": {"detail": {"type": "string"}}}})
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return Response({"detail": "POST username and password, with the csrftoken cookie in X-CSRFToken."})

    @extend_schema(request=LoginSerializer, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        # DRF checks CSRF only for requests already authenticated by a session; a login has none yet.
        SessionAuthentication().enforce_csrf(request)
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise AuthenticationFailed("Wrong username or password, or the account is disabled.")
        login(request._request, user)
        return Response(MeSerializer(user).data)


class LogoutView(APIView):
    """End the session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who is calling: user, role and permissions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet[ApiToken]
):
    """The caller's own API tokens: list, create (the key is returned once), revoke.

    A token created by a request authenticated with a token expires at the latest when the caller's does.
    """

    permission_classes = [IsAuthenticated]
    serializer_class = ApiTokenSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user_id=self.request.user.pk or 0)

    @extend_schema(responses={201: NewApiTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        minted_by = request.auth if isinstance(request.auth, ApiToken) else None
        token, key = api_token_create(
            user=request.user,  # type: ignore[arg-type]
            minted_by=minted_by,
            **serializer.validated_data,
        )
        token.key = key  # type: ignore[attr-defined]
        return Response(NewApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(token=instance)


class UserViewSet(viewsets.ModelViewSet[User]):
    """Users and their roles (admin only: needs the auth.*_user permissions; superusers only by superusers).

    `"role": null` removes the user's role (a user has at most one); leaving `role` out keeps it.
    """

    queryset = get_user_model().objects.prefetch_related("groups").order_by("username")
    serializer_class = UserSerializer
    filterset_fields = ("is_active", "groups__name")

    def perform_create(self, serializer: BaseSerializer[User]) -> None:
        serializer.instance = user_create(actor=self._actor(), **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[User]) -> None:
        assert serializer.instance is not None
        data = dict(serializer.validated_data)
        role = data.pop("role", Keep.KEEP)
        serializer.instance = user_update(actor=self._actor(), user=serializer.instance, role=role, **data)

    def perform_destroy(self, instance: User) -> None:
        user_delete(actor=self._actor(), user=instance)

    def _actor(self) -> User:
        user = self.request.user
        assert isinstance(user, get_user_model())  # RolePermission let only authenticated users in
        return user
