import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateProductCommand,
  CreateProvisioningArtifactCommand,
  DeleteProvisioningArtifactCommand,
  DescribeProductAsAdminCommand,
  DescribeProvisionedProductCommand,
  DescribeProvisioningArtifactCommand,
  InvalidParametersException,
  LimitExceededException,
  ListProvisioningArtifactsCommand,
  ProvisionProductCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ServiceCatalogClient,
  ServiceCatalogServiceException,
  UpdateProvisioningArtifactCommand,
  type CreateProvisioningArtifactCommandInput,
} from '@aws-sdk/client-service-catalog';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startServiceCatalogEmulator,
  type ServiceCatalogEmulator,
  type ServiceCatalogEmulatorOptions,
} from '../../sandbox/aws/service-catalog/index.js';

// --- fixtures ------------------------------------------------------------------------------------------------------

const yamlTemplate = (instanceType: string) => `AWSTemplateFormatVersion: '2010-09-09'
Description: Web server
Parameters:
  InstanceType:
    Type: String
    Default: ${instanceType}
    AllowedValues: [t3.micro, t3.small, t3.medium]
    Description: EC2 type
  DbPassword:
    Type: String
    NoEcho: true
  Port:
    Type: Number
    Default: 8080
    MinValue: 1
    MaxValue: 65535
Resources:
  Web:
    Type: AWS::EC2::Instance
    Properties:
      InstanceType: !Ref InstanceType
      AvailabilityZone: !Select [0, !GetAZs '']
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          echo \${Port}
Outputs:
  Az:
    Value: !GetAtt Web.AvailabilityZone
`;

const jsonTemplate = (instanceType: string) =>
  JSON.stringify(
    {
      AWSTemplateFormatVersion: '2010-09-09',
      Parameters: { InstanceType: { Type: 'String', Default: instanceType } },
      Resources: { Web: { Type: 'AWS::EC2::Instance', Properties: { InstanceType: { Ref: 'InstanceType' } } } },
    },
    null,
    2,
  );

const YAML_PARAMETERS = [
  {
    ParameterKey: 'InstanceType',
    DefaultValue: 't3.micro',
    ParameterType: 'String',
    IsNoEcho: false,
    Description: 'EC2 type',
    ParameterConstraints: { AllowedValues: ['t3.micro', 't3.small', 't3.medium'] },
  },
  { ParameterKey: 'DbPassword', ParameterType: 'String', IsNoEcho: true, ParameterConstraints: { AllowedValues: [] } },
  {
    ParameterKey: 'Port',
    DefaultValue: '8080',
    ParameterType: 'Number',
    IsNoEcho: false,
    ParameterConstraints: { AllowedValues: [], MinValue: '1', MaxValue: '65535' },
  },
];

const ID = (prefix: string) => new RegExp(`^${prefix}-[a-z0-9]{13}$`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A stand-in for S3: serves templates over plain HTTP GET, like moto does for path-style object URLs. */
interface TemplateHost {
  put(path: string, body: string, options?: { status?: number; delayMs?: number }): string;
  hits(path: string): number;
  close(): Promise<void>;
}

async function startTemplateHost(): Promise<TemplateHost> {
  const objects = new Map<string, { body: string; status: number; delayMs: number }>();
  const hits = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const path = request.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const object = objects.get(path);
    const answer = () => {
      if (object === undefined) response.writeHead(404).end('<Error><Code>NoSuchKey</Code></Error>');
      else response.writeHead(object.status, { 'Content-Type': 'application/octet-stream' }).end(object.body);
    };
    if (object?.delayMs) setTimeout(answer, object.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    put: (path, body, options = {}) => {
      objects.set(path, { body, status: options.status ?? 200, delayMs: options.delayMs ?? 0 });
      return `${base}${path}`;
    },
    hits: (path) => hits.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let host: TemplateHost;
let started: { emulator: ServiceCatalogEmulator; client: ServiceCatalogClient }[] = [];

beforeAll(async () => {
  host = await startTemplateHost();
});
afterAll(async () => {
  await host.close();
});
afterEach(async () => {
  for (const { emulator, client } of started) {
    client.destroy();
    await emulator.stop();
  }
  started = [];
});

/** A fresh emulator (short CREATING phase unless overridden) and an SDK client pointed at it. */
async function setup(options: ServiceCatalogEmulatorOptions = {}, maxAttempts?: number) {
  const emulator = await startServiceCatalogEmulator({ artifactReadyAfterMs: 100, ...options });
  const client = new ServiceCatalogClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  started.push({ emulator, client });
  return { emulator, client };
}

/** A seeded product whose first version is the YAML template with t3.micro. */
async function seedWebProduct(emulator: ServiceCatalogEmulator, name = 'web-server') {
  const templateUrl = host.put(`/sc-templates/${name}/v1.yaml`, yamlTemplate('t3.micro'));
  const seeded = await emulator.seedProduct({
    name,
    owner: 'platform',
    description: 'EC2 web server',
    artifact: { name: 'v1', description: 't3.micro', templateUrl },
  });
  return { ...seeded, templateUrl };
}

async function rejection(promise: Promise<unknown>): Promise<ServiceCatalogServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceCatalogServiceException) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const createInput = (
  productId: string,
  templateUrl: string,
  overrides: Partial<CreateProvisioningArtifactCommandInput> = {},
): CreateProvisioningArtifactCommandInput => ({
  ProductId: productId,
  Parameters: {
    Name: 'v2-t3.small',
    Description: 'auto: t3.micro -> t3.small',
    Info: { LoadTemplateFromURL: templateUrl },
    Type: 'CLOUD_FORMATION_TEMPLATE',
  },
  IdempotencyToken: 'dt-6f1c0e9b5a7d4c21',
  ...overrides,
});

async function rawCall(url: string, target: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': target,
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/servicecatalog/aws4_request',
      ...headers,
    },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

// --- tests ---------------------------------------------------------------------------------------------------------

describe('Service Catalog emulator: wire protocol', () => {
  it('answers AWS JSON 1.1 with a request id, and refuses calls without an Authorization header', async () => {
    const { emulator } = await setup();
    const target = 'AWS242ServiceCatalogService.DescribeProvisionedProduct';

    const unsigned = await rawCall(emulator.url, target, '{"Id":"pp-abcd27bm4mldq"}', { Authorization: '' });
    expect(unsigned.status).toBe(400);
    expect(unsigned.body).toEqual({ __type: 'MissingAuthenticationTokenException', message: expect.any(String) });

    const signed = await rawCall(emulator.url, target, '{"Id":"pp-abcd27bm4mldq"}');
    expect(signed.status).toBe(400);
    expect(signed.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(signed.headers.get('x-amzn-requestid')).toMatch(UUID);
    expect(signed.body).toEqual({
      __type: 'ResourceNotFoundException',
      message: 'Provisioned product pp-abcd27bm4mldq not found',
    });
    expect(emulator.requests().map((r) => [r.operation, r.httpStatus, r.errorCode])).toEqual([
      ['DescribeProvisionedProduct', 400, 'MissingAuthenticationTokenException'],
      ['DescribeProvisionedProduct', 400, 'ResourceNotFoundException'],
    ]);
  });

  it('answers UnknownOperationException for foreign or unimplemented targets, which the SDK does not retry', async () => {
    const { emulator, client } = await setup();
    const unknown = await rawCall(emulator.url, 'AWS242ServiceCatalogService.NoSuchOperation', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('UnknownOperationException');
    const foreign = await rawCall(emulator.url, 'AmazonSSM.GetParameter', '{}');
    expect(foreign.body.__type).toBe('UnknownOperationException');

    const error = await rejection(
      client.send(
        new ProvisionProductCommand({ ProductId: 'prod-x', ProvisionedProductName: 'pp', ProvisionToken: 't' }),
      ),
    );
    expect(error.name).toBe('UnknownOperationException');
    expect(error.message).toContain('ProvisionProduct is not implemented');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.attempts).toBe(1);
  });

  it('answers SerializationException for a body that is not a JSON object, and 404 outside the protocol', async () => {
    const { emulator } = await setup();
    const target = 'AWS242ServiceCatalogService.ListProvisioningArtifacts';
    expect((await rawCall(emulator.url, target, '{not json')).body.__type).toBe('SerializationException');
    expect((await rawCall(emulator.url, target, '[1]')).body.__type).toBe('SerializationException');
    // An empty body means "no members", so the operation itself complains about the missing ProductId.
    expect((await rawCall(emulator.url, target, '')).body).toEqual({
      __type: 'InvalidParametersException',
      message: 'ProductId is required',
    });
    expect((await fetch(`${emulator.url}/nowhere`)).status).toBe(404);
  });

  it('turns timestamps into Date objects in the SDK (epoch-second numbers on the wire)', async () => {
    let clock = Date.UTC(2026, 0, 15, 10, 30, 0) + 123;
    const { emulator, client } = await setup({ now: () => clock });
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    clock += 1000;

    const raw = await rawCall(
      emulator.url,
      'AWS242ServiceCatalogService.ListProvisioningArtifacts',
      JSON.stringify({ ProductId: productId }),
    );
    const [wireDetail] = raw.body.ProvisioningArtifactDetails as { CreatedTime: unknown }[];
    expect(wireDetail?.CreatedTime).toBe(Date.UTC(2026, 0, 15, 10, 30, 0) / 1000 + 0.123);

    const described = await client.send(
      new DescribeProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactId: provisioningArtifactId }),
    );
    const createdTime = described.ProvisioningArtifactDetail?.CreatedTime;
    expect(createdTime).toBeInstanceOf(Date);
    expect(createdTime?.toISOString()).toBe('2026-01-15T10:30:00.123Z');
    const product = await client.send(new DescribeProductAsAdminCommand({ Id: productId }));
    expect(product.ProductViewDetail?.CreatedTime).toEqual(new Date('2026-01-15T10:30:00.123Z'));
    expect(product.ProvisioningArtifactSummaries?.[0]?.CreatedTime).toBeInstanceOf(Date);
  });

  it('exposes its state as JSON at GET /_emulator/state and serves stored templates', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    await client.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));

    const state = (await (await fetch(`${emulator.url}/_emulator/state`)).json()) as {
      products: { id: string; provisioningArtifactIds: string[] }[];
      provisioningArtifacts: { id: string; templateText: string; status: string }[];
      stats: { requests: number; requestsByOperation: Record<string, number> };
    };
    expect(state.products).toEqual([
      expect.objectContaining({ id: productId, provisioningArtifactIds: [provisioningArtifactId] }),
    ]);
    expect(state.provisioningArtifacts[0]).toMatchObject({
      id: provisioningArtifactId,
      templateText: yamlTemplate('t3.micro'),
      status: 'AVAILABLE',
    });
    expect(state.stats).toMatchObject({ requests: 1, requestsByOperation: { ListProvisioningArtifacts: 1 } });

    const template = await fetch(`${emulator.url}/_emulator/templates/${provisioningArtifactId}`);
    expect(template.status).toBe(200);
    expect(await template.text()).toBe(yamlTemplate('t3.micro'));
    expect((await fetch(`${emulator.url}/_emulator/templates/pa-doesnotexist1`)).status).toBe(404);
  });

  it('stops listening on stop()', async () => {
    const { emulator, client } = await setup();
    await emulator.stop();
    started = started.filter((entry) => entry.emulator !== emulator);
    await expect(client.send(new ListProvisioningArtifactsCommand({ ProductId: 'prod-x' }))).rejects.toThrow(
      /ECONNREFUSED/,
    );
    client.destroy();
  });
});

describe('Service Catalog emulator: products', () => {
  it('creates a product with its first version from ProvisioningArtifactParameters', async () => {
    const { emulator, client } = await setup();
    const templateUrl = host.put('/sc-templates/create-product/v1.yaml', yamlTemplate('t3.micro'));
    const created = await client.send(
      new CreateProductCommand({
        Name: 'web-server',
        Owner: 'platform',
        Description: 'EC2 web server',
        ProductType: 'CLOUD_FORMATION_TEMPLATE',
        Tags: [{ Key: 'team', Value: 'sre' }],
        ProvisioningArtifactParameters: {
          Name: 'v1',
          Description: 't3.micro',
          Info: { LoadTemplateFromURL: templateUrl },
          Type: 'CLOUD_FORMATION_TEMPLATE',
        },
        IdempotencyToken: 'create-web-server',
      }),
    );
    const productId = created.ProductViewDetail?.ProductViewSummary?.ProductId ?? '';
    expect(productId).toMatch(ID('prod'));
    expect(created.ProductViewDetail).toEqual({
      ProductViewSummary: {
        Id: expect.stringMatching(ID('prodview')),
        ProductId: productId,
        Name: 'web-server',
        Owner: 'platform',
        Type: 'CLOUD_FORMATION_TEMPLATE',
        Distributor: '',
        ShortDescription: 'EC2 web server',
        HasDefaultPath: false,
      },
      Status: 'AVAILABLE',
      ProductARN: `arn:aws:catalog:us-east-1:123456789012:product/${productId}`,
      CreatedTime: expect.any(Date),
    });
    expect(created.ProvisioningArtifactDetail).toEqual({
      Id: expect.stringMatching(ID('pa')),
      Name: 'v1',
      Description: 't3.micro',
      Type: 'CLOUD_FORMATION_TEMPLATE',
      CreatedTime: expect.any(Date),
      Active: true,
      Guidance: 'DEFAULT',
    });
    expect(created.Tags).toEqual([{ Key: 'team', Value: 'sre' }]);
    // The first version of a product is usable at once.
    expect(emulator.listArtifacts(productId)).toEqual([
      expect.objectContaining({ status: 'AVAILABLE', origin: 'CreateProduct', templateText: yamlTemplate('t3.micro') }),
    ]);

    const again = await client.send(
      new CreateProductCommand({
        Name: 'web-server',
        Owner: 'platform',
        Description: 'EC2 web server',
        ProductType: 'CLOUD_FORMATION_TEMPLATE',
        Tags: [{ Key: 'team', Value: 'sre' }],
        ProvisioningArtifactParameters: {
          Name: 'v1',
          Description: 't3.micro',
          Info: { LoadTemplateFromURL: templateUrl },
          Type: 'CLOUD_FORMATION_TEMPLATE',
        },
        IdempotencyToken: 'create-web-server',
      }),
    );
    expect(again.ProductViewDetail?.ProductViewSummary?.ProductId).toBe(productId);
    expect(emulator.state().products).toHaveLength(1);
  });

  it('refuses CreateProduct without a version, with a broken template or an unsupported type', async () => {
    const { emulator, client } = await setup();
    const base = { Name: 'p', Owner: 'o', ProductType: 'CLOUD_FORMATION_TEMPLATE' as const, IdempotencyToken: 'tok1' };
    const missing = await rejection(client.send(new CreateProductCommand(base)));
    expect(missing).toBeInstanceOf(InvalidParametersException);
    expect(missing.message).toBe('ProvisioningArtifactParameters is required');

    const brokenUrl = host.put('/sc-templates/broken.txt', 'this: is: not: yaml');
    const broken = await rejection(
      client.send(
        new CreateProductCommand({
          ...base,
          IdempotencyToken: 'tok2',
          ProvisioningArtifactParameters: { Info: { LoadTemplateFromURL: brokenUrl } },
        }),
      ),
    );
    expect(broken).toBeInstanceOf(InvalidParametersException);
    expect(broken.message).toMatch(/^Template format error: YAML not well-formed/);

    const terraform = await rejection(
      client.send(
        new CreateProductCommand({
          ...base,
          ProductType: 'TERRAFORM_OPEN_SOURCE',
          IdempotencyToken: 'tok3',
          ProvisioningArtifactParameters: { Info: { LoadTemplateFromURL: brokenUrl } },
        }),
      ),
    );
    expect(terraform).toBeInstanceOf(InvalidParametersException);
    expect(emulator.state().products).toEqual([]);
  });

  it('describes a product as admin by id or by name, with all its versions', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const second = await emulator.seedProvisioningArtifact(productId, {
      name: 'v2',
      description: 't3.small',
      templateBody: yamlTemplate('t3.small'),
    });

    const byId = await client.send(new DescribeProductAsAdminCommand({ Id: productId }));
    expect(byId.ProductViewDetail?.ProductViewSummary).toMatchObject({ ProductId: productId, Name: 'web-server' });
    expect(byId.ProvisioningArtifactSummaries).toEqual([
      {
        Id: provisioningArtifactId,
        Name: 'v1',
        Description: 't3.micro',
        CreatedTime: expect.any(Date),
        ProvisioningArtifactMetadata: {},
      },
      {
        Id: second.provisioningArtifactId,
        Name: 'v2',
        Description: 't3.small',
        CreatedTime: expect.any(Date),
        ProvisioningArtifactMetadata: {},
      },
    ]);
    expect(byId.Tags).toEqual([]);
    expect(byId.TagOptions).toEqual([]);
    expect(byId.Budgets).toEqual([]);

    const byName = await client.send(new DescribeProductAsAdminCommand({ Name: 'web-server' }));
    expect(byName.ProductViewDetail?.ProductARN).toBe(byId.ProductViewDetail?.ProductARN);
  });

  it('answers DescribeProductAsAdmin errors with the modeled exceptions, without retrying', async () => {
    const { emulator, client } = await setup();
    await seedWebProduct(emulator, 'twin');
    await seedWebProduct(emulator, 'twin');

    const notFound = await rejection(client.send(new DescribeProductAsAdminCommand({ Id: 'prod-abcdcek6yhbxi' })));
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound.$fault).toBe('client');
    expect(notFound.$metadata).toMatchObject({
      httpStatusCode: 400,
      attempts: 1,
      requestId: expect.stringMatching(UUID),
    });
    expect(notFound.message).toBe('Product prod-abcdcek6yhbxi not found');

    expect(await rejection(client.send(new DescribeProductAsAdminCommand({})))).toBeInstanceOf(
      InvalidParametersException,
    );
    const ambiguous = await rejection(client.send(new DescribeProductAsAdminCommand({ Name: 'twin' })));
    expect(ambiguous).toBeInstanceOf(InvalidParametersException);
    expect(ambiguous.message).toMatch(/More than one product/);
    expect(await rejection(client.send(new DescribeProductAsAdminCommand({ Id: 'bad id!' })))).toBeInstanceOf(
      InvalidParametersException,
    );
  });
});

describe('Service Catalog emulator: reading versions', () => {
  it('lists every version of a product in creation order, with the fields of the reference', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const v2 = await emulator.seedProvisioningArtifact(productId, {
      name: 'v2',
      templateBody: jsonTemplate('t3.small'),
      guidance: 'DEPRECATED',
      active: false,
    });

    const listed = await client.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));
    expect(listed.ProvisioningArtifactDetails).toEqual([
      {
        Id: provisioningArtifactId,
        Name: 'v1',
        Description: 't3.micro',
        Type: 'CLOUD_FORMATION_TEMPLATE',
        CreatedTime: expect.any(Date),
        Active: true,
        Guidance: 'DEFAULT',
      },
      {
        Id: v2.provisioningArtifactId,
        Name: 'v2',
        Type: 'CLOUD_FORMATION_TEMPLATE',
        CreatedTime: expect.any(Date),
        Active: false,
        Guidance: 'DEPRECATED',
      },
    ]);
    expect(listed.NextPageToken).toBeUndefined();

    expect(
      await rejection(client.send(new ListProvisioningArtifactsCommand({ ProductId: 'prod-missing' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect(
      await rejection(client.send(new ListProvisioningArtifactsCommand({} as { ProductId: string }))),
    ).toBeInstanceOf(InvalidParametersException);
  });

  it('describes a version with Info.TemplateUrl, and its template parameters on request', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId, templateUrl } = await seedWebProduct(emulator);

    const described = await client.send(
      new DescribeProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: provisioningArtifactId,
        Verbose: true,
      }),
    );
    expect(described.ProvisioningArtifactDetail).toEqual({
      Id: provisioningArtifactId,
      Name: 'v1',
      Description: 't3.micro',
      Type: 'CLOUD_FORMATION_TEMPLATE',
      CreatedTime: expect.any(Date),
      Active: true,
      Guidance: 'DEFAULT',
    });
    expect(described.Info).toEqual({ TemplateUrl: templateUrl });
    expect(described.Status).toBe('AVAILABLE');
    expect(described.ProvisioningArtifactParameters).toBeUndefined();

    const withParameters = await client.send(
      new DescribeProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: provisioningArtifactId,
        IncludeProvisioningArtifactParameters: true,
      }),
    );
    expect(withParameters.ProvisioningArtifactParameters).toEqual(YAML_PARAMETERS);
  });

  it('finds a version by product and version names', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const byNames = await client.send(
      new DescribeProvisioningArtifactCommand({ ProductName: 'web-server', ProvisioningArtifactName: 'v1' }),
    );
    expect(byNames.ProvisioningArtifactDetail?.Id).toBe(provisioningArtifactId);
    const mixed = await client.send(
      new DescribeProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactName: 'v1' }),
    );
    expect(mixed.ProvisioningArtifactDetail?.Id).toBe(provisioningArtifactId);
  });

  it('answers DescribeProvisioningArtifact errors', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const other = await seedWebProduct(emulator, 'other');

    const unknownVersion = await rejection(
      client.send(new DescribeProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactId: 'pa-x' })),
    );
    expect(unknownVersion).toBeInstanceOf(ResourceNotFoundException);
    expect(unknownVersion.message).toBe(`Provisioning artifact pa-x not found for product ${productId}`);
    // A version belongs to one product only.
    expect(
      await rejection(
        client.send(
          new DescribeProvisioningArtifactCommand({
            ProductId: other.productId,
            ProvisioningArtifactId: provisioningArtifactId,
          }),
        ),
      ),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect(
      await rejection(
        client.send(new DescribeProvisioningArtifactCommand({ ProvisioningArtifactId: provisioningArtifactId })),
      ),
    ).toBeInstanceOf(InvalidParametersException);
    expect(
      await rejection(client.send(new DescribeProvisioningArtifactCommand({ ProductId: productId }))),
    ).toBeInstanceOf(InvalidParametersException);
    expect(
      await rejection(
        client.send(
          new DescribeProvisioningArtifactCommand({ ProductName: 'web-server', ProvisioningArtifactName: 'v9' }),
        ),
      ),
    ).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('Service Catalog emulator: CreateProvisioningArtifact', () => {
  it('creates a version from a YAML template URL: CREATING at first, AVAILABLE after the delay', async () => {
    const { emulator, client } = await setup({ artifactReadyAfterMs: 250 });
    const { productId } = await seedWebProduct(emulator);
    const templateUrl = host.put('/sc-templates/web-server/v2.yaml', yamlTemplate('t3.small'));

    const startedAt = Date.now();
    const created = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, templateUrl)));
    const artifactId = created.ProvisioningArtifactDetail?.Id ?? '';
    expect(artifactId).toMatch(ID('pa'));
    expect(created.ProvisioningArtifactDetail).toEqual({
      Id: artifactId,
      Name: 'v2-t3.small',
      Description: 'auto: t3.micro -> t3.small',
      Type: 'CLOUD_FORMATION_TEMPLATE',
      CreatedTime: expect.any(Date),
      Active: true,
      Guidance: 'DEFAULT',
    });
    expect(created.Info).toEqual({ TemplateUrl: templateUrl });
    expect(created.Status).toBe('CREATING');

    const stored = emulator.getArtifact(artifactId);
    expect(stored).toMatchObject({
      templateText: yamlTemplate('t3.small'),
      templateFormat: 'yaml',
      origin: 'CreateProvisioningArtifact',
      idempotencyToken: 'dt-6f1c0e9b5a7d4c21',
    });
    expect(stored?.parameters[0]).toMatchObject({ ParameterKey: 'InstanceType', DefaultValue: 't3.small' });

    const statuses: string[] = [];
    for (;;) {
      const described = await client.send(
        new DescribeProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactId: artifactId }),
      );
      statuses.push(described.Status ?? '');
      if (described.Status !== 'CREATING') break;
      await sleep(40);
    }
    expect(statuses[0]).toBe('CREATING');
    expect(statuses.at(-1)).toBe('AVAILABLE');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
  });

  it('accepts a JSON template and reports its parameters', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const templateUrl = host.put('/sc-templates/web-server/v2.json', jsonTemplate('t3.medium'));
    const created = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, templateUrl)));
    const artifactId = created.ProvisioningArtifactDetail?.Id ?? '';
    expect(emulator.getArtifact(artifactId)).toMatchObject({
      templateFormat: 'json',
      templateText: jsonTemplate('t3.medium'),
    });

    const described = await client.send(
      new DescribeProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: artifactId,
        IncludeProvisioningArtifactParameters: true,
      }),
    );
    expect(described.ProvisioningArtifactParameters).toEqual([
      {
        ParameterKey: 'InstanceType',
        DefaultValue: 't3.medium',
        ParameterType: 'String',
        IsNoEcho: false,
        ParameterConstraints: { AllowedValues: [] },
      },
    ]);
  });

  it('can settle on the Nth DescribeProvisioningArtifact instead of after a delay', async () => {
    const { emulator, client } = await setup({ artifactReadyAfterMs: null, artifactReadyAfterDescribes: 3 });
    const { productId } = await seedWebProduct(emulator);
    const created = await client.send(
      new CreateProvisioningArtifactCommand(createInput(productId, host.put('/nth.yaml', yamlTemplate('t3.small')))),
    );
    const describe = () =>
      client.send(
        new DescribeProvisioningArtifactCommand({
          ProductId: productId,
          ProvisioningArtifactId: created.ProvisioningArtifactDetail?.Id,
        }),
      );
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await describe()).Status);
    expect(statuses).toEqual(['CREATING', 'CREATING', 'AVAILABLE', 'AVAILABLE']);
    // Listing or inspecting does not count as a describe.
    expect(emulator.getArtifact(created.ProvisioningArtifactDetail?.Id ?? '')?.describeCalls).toBe(3);
  });

  it('lets the next creation end in FAILED', async () => {
    const { emulator, client } = await setup({ artifactReadyAfterMs: 0 });
    const { productId } = await seedWebProduct(emulator);
    emulator.failNextArtifactCreations();
    const templateUrl = host.put('/fail.yaml', yamlTemplate('t3.small'));

    const failing = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, templateUrl)));
    expect(failing.Status).toBe('CREATING');
    const healthy = await client.send(
      new CreateProvisioningArtifactCommand(
        createInput(productId, templateUrl, {
          IdempotencyToken: 'second-token',
          Parameters: { Name: 'v3', Info: { LoadTemplateFromURL: templateUrl } },
        }),
      ),
    );
    const statusOf = async (id?: string) =>
      (await client.send(new DescribeProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactId: id })))
        .Status;
    expect(await statusOf(failing.ProvisioningArtifactDetail?.Id)).toBe('FAILED');
    expect(await statusOf(healthy.ProvisioningArtifactDetail?.Id)).toBe('AVAILABLE');
  });

  it('refuses templates that are neither JSON nor YAML, or lack resources, unless validation is disabled', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const garbageUrl = host.put('/garbage.txt', 'Resources: [unclosed\n  - : :');
    const invalid = await rejection(
      client.send(new CreateProvisioningArtifactCommand(createInput(productId, garbageUrl))),
    );
    expect(invalid).toBeInstanceOf(InvalidParametersException);
    expect(invalid.message).toMatch(/^Template format error: YAML not well-formed/);

    const badJson = await rejection(
      client.send(
        new CreateProvisioningArtifactCommand(
          createInput(productId, host.put('/bad.json', '{"Resources": {'), { IdempotencyToken: 'bad-json' }),
        ),
      ),
    );
    expect(badJson.message).toMatch(/^Template format error: JSON not well-formed/);

    const noResources = await rejection(
      client.send(
        new CreateProvisioningArtifactCommand(
          createInput(productId, host.put('/empty.yaml', 'Description: nothing\n'), { IdempotencyToken: 'empty' }),
        ),
      ),
    );
    expect(noResources.message).toBe('Template format error: At least one Resources member must be defined.');

    const untyped = await rejection(
      client.send(
        new CreateProvisioningArtifactCommand(
          createInput(productId, host.put('/untyped.yaml', 'Resources:\n  Web:\n    Properties: {}\n'), {
            IdempotencyToken: 'untyped',
          }),
        ),
      ),
    );
    expect(untyped.message).toBe(
      'Template format error: [/Resources/Web] Every Resources object must contain a Type member.',
    );
    expect(emulator.stats().provisioningArtifactsCreated).toBe(0);

    const unchecked = await client.send(
      new CreateProvisioningArtifactCommand({
        ...createInput(productId, garbageUrl, { IdempotencyToken: 'unchecked' }),
        Parameters: { Name: 'raw', Info: { LoadTemplateFromURL: garbageUrl }, DisableTemplateValidation: true },
      }),
    );
    expect(emulator.getArtifact(unchecked.ProvisioningArtifactDetail?.Id ?? '')).toMatchObject({
      templateText: 'Resources: [unclosed\n  - : :',
      templateFormat: undefined,
      parameters: [],
    });
  });

  it('refuses template URLs that cannot be read', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const missing = host.put('/exists.yaml', yamlTemplate('t3.small')).replace('exists', 'missing');
    const notFound = await rejection(
      client.send(new CreateProvisioningArtifactCommand(createInput(productId, missing))),
    );
    expect(notFound).toBeInstanceOf(InvalidParametersException);
    expect(notFound.message).toBe(`Unable to retrieve the template from ${missing}: HTTP 404 Not Found`);

    const denied = host.put('/denied.yaml', '<Error><Code>AccessDenied</Code></Error>', { status: 403 });
    expect(
      (await rejection(client.send(new CreateProvisioningArtifactCommand(createInput(productId, denied))))).message,
    ).toMatch(/HTTP 403/);
    for (const url of ['ftp://example.com/t.yaml', 'not a url']) {
      expect(
        await rejection(client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)))),
      ).toBeInstanceOf(InvalidParametersException);
    }
  });

  it('validates the Info map, the product, the type and the idempotency token', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/valid.yaml', yamlTemplate('t3.small'));
    const withInfo = (Info: Record<string, string>) =>
      client.send(new CreateProvisioningArtifactCommand({ ...createInput(productId, url), Parameters: { Info } }));

    const both = await rejection(
      withInfo({
        LoadTemplateFromURL: url,
        ImportFromPhysicalId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/s/1',
      }),
    );
    expect(both.message).toBe('Info must contain exactly one of LoadTemplateFromURL or ImportFromPhysicalId');
    expect((await rejection(withInfo({}))).message).toBe(
      'Info must contain exactly one of LoadTemplateFromURL or ImportFromPhysicalId',
    );
    // TemplateUrl is what responses carry; it is not a way to create a version.
    expect((await rejection(withInfo({ TemplateUrl: url }))).message).toMatch(/^Unsupported Info key\(s\) TemplateUrl/);
    // The SDK sends a request without the required Parameters as is; the service must refuse it.
    const withoutParameters = { ProductId: productId, IdempotencyToken: 't' } as CreateProvisioningArtifactCommandInput;
    const missingParameters = await rejection(client.send(new CreateProvisioningArtifactCommand(withoutParameters)));
    expect(missingParameters).toBeInstanceOf(InvalidParametersException);
    expect(missingParameters.message).toBe('Parameters is required');

    expect(
      await rejection(client.send(new CreateProvisioningArtifactCommand(createInput('prod-abcdcek6yhbxi', url)))),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect(
      await rejection(
        client.send(
          new CreateProvisioningArtifactCommand({
            ...createInput(productId, url),
            Parameters: { Info: { LoadTemplateFromURL: url }, Type: 'TERRAFORM_OPEN_SOURCE' },
          }),
        ),
      ),
    ).toBeInstanceOf(InvalidParametersException);

    for (const token of ['has space', '_leading-underscore', 'x'.repeat(129), 'dots.not.allowed']) {
      const error = await rejection(
        client.send(new CreateProvisioningArtifactCommand(createInput(productId, url, { IdempotencyToken: token }))),
      );
      expect(error, token).toBeInstanceOf(InvalidParametersException);
      expect(error.message).toMatch(/^IdempotencyToken /);
    }
    // The API model: "No spaces are allowed" in a version name.
    for (const Name of ['t3.small (Dynatrace Autopilot)', 'v2 beta', 'tab\tname']) {
      const error = await rejection(
        client.send(
          new CreateProvisioningArtifactCommand({
            ...createInput(productId, url),
            Parameters: { Name, Info: { LoadTemplateFromURL: url } },
          }),
        ),
      );
      expect(error, Name).toBeInstanceOf(InvalidParametersException);
      expect(error.message).toBe('Provisioning artifact Name must not contain spaces (for example, v1 v2beta)');
    }
    const longest = await client.send(
      new CreateProvisioningArtifactCommand(createInput(productId, url, { IdempotencyToken: `A${'b_-'.repeat(42)}` })),
    );
    expect(longest.Status).toBe('CREATING');
    expect(emulator.stats().provisioningArtifactsCreated).toBe(1);
  });

  it('imports a template from a CloudFormation stack with ImportFromPhysicalId', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const stackArn = 'arn:aws:cloudformation:us-east-1:123456789012:stack/SC-123456789012-pp-abc/9b6f0b3c';
    emulator.registerStackTemplate(stackArn, yamlTemplate('t3.medium'));

    const created = await client.send(
      new CreateProvisioningArtifactCommand({
        ...createInput(productId, ''),
        Parameters: { Name: 'imported', Info: { ImportFromPhysicalId: stackArn } },
      }),
    );
    const artifactId = created.ProvisioningArtifactDetail?.Id ?? '';
    expect(created.Info).toEqual({ TemplateUrl: `${emulator.url}/_emulator/templates/${artifactId}` });
    expect(await (await fetch(created.Info?.TemplateUrl ?? '')).text()).toBe(yamlTemplate('t3.medium'));

    const unknownStack = await rejection(
      client.send(
        new CreateProvisioningArtifactCommand({
          ...createInput(productId, '', { IdempotencyToken: 'unknown-stack' }),
          Parameters: { Info: { ImportFromPhysicalId: stackArn.replace('9b6f0b3c', 'other') } },
        }),
      ),
    );
    expect(unknownStack.message).toMatch(/does not exist/);
    const notAnArn = await rejection(
      client.send(
        new CreateProvisioningArtifactCommand({
          ...createInput(productId, '', { IdempotencyToken: 'not-an-arn' }),
          Parameters: { Info: { ImportFromPhysicalId: 'my-stack' } },
        }),
      ),
    );
    expect(notAnArn.message).toMatch(/must be a CloudFormation stack ARN/);
  });

  it('reads templates through a configured fetchTemplate function', async () => {
    const requested: string[] = [];
    const { emulator, client } = await setup({
      fetchTemplate: async (url) => {
        requested.push(url);
        return yamlTemplate('t3.small');
      },
    });
    const { productId } = await emulator.seedProduct({
      name: 'p',
      artifact: { name: 'v1', templateUrl: 'https://bucket.s3.us-east-1.amazonaws.com/p/v1.yaml' },
    });
    await client.send(
      new CreateProvisioningArtifactCommand(
        createInput(productId, 'https://s3.us-east-1.amazonaws.com/bucket/p/v2.yaml'),
      ),
    );
    expect(requested).toEqual([
      'https://bucket.s3.us-east-1.amazonaws.com/p/v1.yaml',
      'https://s3.us-east-1.amazonaws.com/bucket/p/v2.yaml',
    ]);
  });

  it('answers LimitExceededException once a product has the maximum number of versions', async () => {
    const { emulator, client } = await setup({ maxArtifactsPerProduct: 2 });
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/limit.yaml', yamlTemplate('t3.small'));
    const first = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)));

    const overLimit = await rejection(
      client.send(new CreateProvisioningArtifactCommand(createInput(productId, url, { IdempotencyToken: 'third' }))),
    );
    expect(overLimit).toBeInstanceOf(LimitExceededException);
    // The SDK classifies LimitExceededException as throttling and retries it, unlike the other modeled errors.
    expect(overLimit.$metadata.attempts).toBe(3);
    expect(emulator.stats().provisioningArtifactsCreated).toBe(1);
    expect(overLimit.message).toBe(`Product ${productId} already has 2 provisioning artifacts; the limit is 2`);
    // A replay of an earlier request is not a new version and still succeeds at the limit.
    const replay = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)));
    expect(replay.ProvisioningArtifactDetail?.Id).toBe(first.ProvisioningArtifactDetail?.Id);

    emulator.configure({ maxArtifactsPerProduct: 3 });
    const third = await client.send(
      new CreateProvisioningArtifactCommand(createInput(productId, url, { IdempotencyToken: 'third' })),
    );
    expect(third.Status).toBe('CREATING');
  });
});

describe('Service Catalog emulator: idempotency tokens', () => {
  it('returns the same version and response for a repeated token, and creates a new one for a new token', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/idem.yaml', yamlTemplate('t3.small'));

    const first = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)));
    await sleep(150); // the version is AVAILABLE by now; the replay still returns the original response
    const second = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)));
    const { $metadata: firstMetadata, ...firstBody } = first;
    const { $metadata: secondMetadata, ...secondBody } = second;
    expect(secondBody).toEqual(firstBody);
    expect(secondMetadata.requestId).not.toBe(firstMetadata.requestId);
    expect(host.hits('/idem.yaml')).toBe(1);
    expect(emulator.listArtifacts(productId)).toHaveLength(2);
    expect(emulator.stats()).toMatchObject({
      createProvisioningArtifactCalls: 2,
      provisioningArtifactsCreated: 1,
      idempotentReplays: 1,
    });

    const third = await client.send(
      new CreateProvisioningArtifactCommand(createInput(productId, url, { IdempotencyToken: 'another-token' })),
    );
    expect(third.ProvisioningArtifactDetail?.Id).not.toBe(first.ProvisioningArtifactDetail?.Id);
    expect(emulator.listArtifacts(productId)).toHaveLength(3);
  });

  it('refuses a repeated token with different parameters', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/idem-diff.yaml', yamlTemplate('t3.small'));
    await client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)));
    const conflict = await rejection(
      client.send(
        new CreateProvisioningArtifactCommand(
          createInput(productId, url, { Parameters: { Name: 'renamed', Info: { LoadTemplateFromURL: url } } }),
        ),
      ),
    );
    expect(conflict).toBeInstanceOf(InvalidParametersException);
    expect(conflict.message).toMatch(/already used for a CreateProvisioningArtifact request with different parameters/);
    expect(emulator.listArtifacts(productId)).toHaveLength(2);
  });

  it('treats a left-out Type like the default CLOUD_FORMATION_TEMPLATE when comparing parameters', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/idem-default.yaml', yamlTemplate('t3.small'));
    const input = createInput(productId, url);
    const first = await client.send(new CreateProvisioningArtifactCommand(input));
    const { Type: _type, ...withoutType } = input.Parameters!;
    const second = await client.send(new CreateProvisioningArtifactCommand({ ...input, Parameters: withoutType }));
    expect(second.ProvisioningArtifactDetail?.Id).toBe(first.ProvisioningArtifactDetail?.Id);
  });

  it('creates a version per send() when the SDK invents the token', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/idem-sdk.yaml', yamlTemplate('t3.small'));
    const { IdempotencyToken: _token, ...withoutToken } = createInput(productId, url);
    const a = await client.send(new CreateProvisioningArtifactCommand(withoutToken));
    const b = await client.send(new CreateProvisioningArtifactCommand(withoutToken));
    expect(a.ProvisioningArtifactDetail?.Id).not.toBe(b.ProvisioningArtifactDetail?.Id);
    const tokens = emulator.listArtifacts(productId).map((artifact) => artifact.idempotencyToken);
    expect(tokens).toEqual([undefined, expect.stringMatching(UUID), expect.stringMatching(UUID)]);
    expect(tokens[1]).not.toBe(tokens[2]);
  });

  it('creates one version for concurrent requests with the same token', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/idem-slow.yaml', yamlTemplate('t3.small'), { delayMs: 150 });
    const input = createInput(productId, url);
    const [a, b] = await Promise.all([
      client.send(new CreateProvisioningArtifactCommand(input)),
      client.send(new CreateProvisioningArtifactCommand(input)),
    ]);
    expect(a.ProvisioningArtifactDetail?.Id).toBe(b.ProvisioningArtifactDetail?.Id);
    expect(host.hits('/idem-slow.yaml')).toBe(1);
    expect(emulator.stats()).toMatchObject({ provisioningArtifactsCreated: 1, idempotentReplays: 1 });
  });

  it('does not consume a token when the request failed', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const missing = host.put('/later.yaml', yamlTemplate('t3.small')).replace('later', 'not-yet');
    await expect(client.send(new CreateProvisioningArtifactCommand(createInput(productId, missing)))).rejects.toThrow(
      InvalidParametersException,
    );
    host.put('/not-yet.yaml', yamlTemplate('t3.small'));
    const created = await client.send(new CreateProvisioningArtifactCommand(createInput(productId, missing)));
    expect(created.Status).toBe('CREATING');
    expect(emulator.stats().provisioningArtifactsCreated).toBe(1);
  });
});

describe('Service Catalog emulator: updating and deleting versions', () => {
  it('updates Active, Guidance, Name and Description', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId, templateUrl } = await seedWebProduct(emulator);
    const updated = await client.send(
      new UpdateProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: provisioningArtifactId,
        Active: true,
        Guidance: 'DEPRECATED',
      }),
    );
    expect(updated.ProvisioningArtifactDetail).toEqual({
      Id: provisioningArtifactId,
      Name: 'v1',
      Description: 't3.micro',
      Type: 'CLOUD_FORMATION_TEMPLATE',
      CreatedTime: expect.any(Date),
      Active: true,
      Guidance: 'DEPRECATED',
    });
    expect(updated.Info).toEqual({ TemplateUrl: templateUrl });
    expect(updated.Status).toBe('AVAILABLE');

    await client.send(
      new UpdateProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: provisioningArtifactId,
        Active: false,
        Name: 'v1-old',
        Description: 'superseded',
      }),
    );
    const [listed] = (await client.send(new ListProvisioningArtifactsCommand({ ProductId: productId })))
      .ProvisioningArtifactDetails!;
    expect(listed).toMatchObject({ Name: 'v1-old', Description: 'superseded', Active: false, Guidance: 'DEPRECATED' });
  });

  it('answers UpdateProvisioningArtifact errors', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const badGuidance = await rejection(
      client.send(
        new UpdateProvisioningArtifactCommand({
          ProductId: productId,
          ProvisioningArtifactId: provisioningArtifactId,
          Guidance: 'OBSOLETE' as 'DEFAULT',
        }),
      ),
    );
    expect(badGuidance).toBeInstanceOf(InvalidParametersException);
    expect(badGuidance.message).toBe('Guidance must be one of DEFAULT, DEPRECATED');
    const spacedName = await rejection(
      client.send(
        new UpdateProvisioningArtifactCommand({
          ProductId: productId,
          ProvisioningArtifactId: provisioningArtifactId,
          Name: 'v1 old',
        }),
      ),
    );
    expect(spacedName).toBeInstanceOf(InvalidParametersException);
    expect(
      await rejection(
        client.send(new UpdateProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactId: 'pa-nope' })),
      ),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect(emulator.getArtifact(provisioningArtifactId)?.guidance).toBe('DEFAULT');
  });

  it('deletes a version, but never the last one nor one a provisioned product runs on', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const v2 = await emulator.seedProvisioningArtifact(productId, {
      name: 'v2',
      templateBody: yamlTemplate('t3.small'),
    });
    const v3 = await emulator.seedProvisioningArtifact(productId, {
      name: 'v3',
      templateBody: yamlTemplate('t3.medium'),
    });
    emulator.seedProvisionedProduct({ name: 'web-1', productId, provisioningArtifactId: v2.provisioningArtifactId });

    const inUse = await rejection(
      client.send(
        new DeleteProvisioningArtifactCommand({
          ProductId: productId,
          ProvisioningArtifactId: v2.provisioningArtifactId,
        }),
      ),
    );
    expect(inUse).toBeInstanceOf(ResourceInUseException);

    const deleted = await client.send(
      new DeleteProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: v3.provisioningArtifactId,
      }),
    );
    expect(deleted.$metadata.httpStatusCode).toBe(200);
    expect(emulator.listArtifacts(productId).map((a) => a.id)).toEqual([
      provisioningArtifactId,
      v2.provisioningArtifactId,
    ]);
    expect(
      await rejection(
        client.send(
          new DeleteProvisioningArtifactCommand({
            ProductId: productId,
            ProvisioningArtifactId: v3.provisioningArtifactId,
          }),
        ),
      ),
    ).toBeInstanceOf(ResourceNotFoundException);

    emulator.configure({ refuseDeletingArtifactInUse: false });
    await client.send(
      new DeleteProvisioningArtifactCommand({
        ProductId: productId,
        ProvisioningArtifactId: v2.provisioningArtifactId,
      }),
    );
    const last = await rejection(
      client.send(
        new DeleteProvisioningArtifactCommand({ ProductId: productId, ProvisioningArtifactId: provisioningArtifactId }),
      ),
    );
    expect(last).toBeInstanceOf(InvalidParametersException);
    expect(last.message).toMatch(/is the last one of product/);
    expect(emulator.listArtifacts(productId)).toHaveLength(1);
  });
});

describe('Service Catalog emulator: provisioned products', () => {
  it('seeds a provisioned product with its AutoTags and describes it by id or name', async () => {
    const { emulator, client } = await setup();
    const { productId, productArn, provisioningArtifactId } = await seedWebProduct(emulator);
    const seeded = emulator.seedProvisionedProduct({
      name: 'web-prod-1',
      productId,
      portfolioId: 'port-abcd1234efgh5',
    });
    expect(seeded.id).toMatch(ID('pp'));
    expect(seeded.provisioningArtifactId).toBe(provisioningArtifactId);
    expect(seeded.arn).toBe(`arn:aws:servicecatalog:us-east-1:123456789012:stack/web-prod-1/${seeded.id}`);
    expect(seeded.stackName).toBe(`SC-123456789012-${seeded.id}`);
    expect(seeded.autoTags).toEqual([
      {
        Key: 'aws:servicecatalog:portfolioArn',
        Value: 'arn:aws:catalog:us-east-1:123456789012:portfolio/port-abcd1234efgh5',
      },
      { Key: 'aws:servicecatalog:productArn', Value: productArn },
      {
        Key: 'aws:servicecatalog:provisioningPrincipalArn',
        Value: expect.stringMatching(/^arn:aws:iam::123456789012:/),
      },
      { Key: 'aws:servicecatalog:provisionedProductArn', Value: seeded.arn },
      { Key: 'aws:servicecatalog:provisioningArtifactIdentifier', Value: provisioningArtifactId },
    ]);

    const byId = await client.send(new DescribeProvisionedProductCommand({ Id: seeded.id }));
    expect(byId.ProvisionedProductDetail).toEqual({
      Name: 'web-prod-1',
      Arn: seeded.arn,
      Type: 'CFN_STACK',
      Id: seeded.id,
      Status: 'AVAILABLE',
      CreatedTime: expect.any(Date),
      IdempotencyToken: expect.stringMatching(UUID),
      LastRecordId: expect.stringMatching(ID('rec')),
      ProductId: productId,
      ProvisioningArtifactId: provisioningArtifactId,
    });
    expect(byId.CloudWatchDashboards).toEqual([]);
    const byName = await client.send(new DescribeProvisionedProductCommand({ Name: 'web-prod-1' }));
    expect(byName.ProvisionedProductDetail?.Id).toBe(seeded.id);
  });

  it('reports the current version after an update while the AutoTag keeps the original one', async () => {
    const { emulator, client } = await setup();
    const { productId, provisioningArtifactId } = await seedWebProduct(emulator);
    const seeded = emulator.seedProvisionedProduct({ name: 'web-prod-2', productId });
    const v2 = await emulator.seedProvisioningArtifact(productId, {
      name: 'v2',
      templateBody: yamlTemplate('t3.small'),
    });
    emulator.updateProvisionedProduct(seeded.id, { provisioningArtifactId: v2.provisioningArtifactId });

    const described = await client.send(new DescribeProvisionedProductCommand({ Id: seeded.id }));
    expect(described.ProvisionedProductDetail?.ProvisioningArtifactId).toBe(v2.provisioningArtifactId);
    expect(seeded.autoTags.at(-1)?.Value).toBe(provisioningArtifactId);
  });

  it('answers DescribeProvisionedProduct errors and refuses duplicate seeded names', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const seeded = emulator.seedProvisionedProduct({ name: 'web-prod-3', productId });
    expect(() => emulator.seedProvisionedProduct({ name: 'web-prod-3', productId })).toThrow(
      expect.objectContaining({ code: 'DuplicateResourceException' }),
    );

    const both = await rejection(
      client.send(new DescribeProvisionedProductCommand({ Id: seeded.id, Name: 'web-prod-3' })),
    );
    expect(both).toBeInstanceOf(InvalidParametersException);
    expect(both.message).toBe('Specify either Id or Name, not both');
    expect(await rejection(client.send(new DescribeProvisionedProductCommand({})))).toBeInstanceOf(
      InvalidParametersException,
    );
    expect(await rejection(client.send(new DescribeProvisionedProductCommand({ Name: 'nope' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});

describe('Service Catalog emulator: injected faults and SDK retries', () => {
  it('lets the SDK retry through injected 500s and throttling until one logical call succeeds', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);

    emulator.injectFaults({ kind: 'InternalFailure' }, { kind: 'InternalFailure' });
    const afterTwo500s = await client.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));
    expect(afterTwo500s.ProvisioningArtifactDetails).toHaveLength(1);
    expect(afterTwo500s.$metadata.attempts).toBe(3);

    emulator.injectFaults({ kind: 'ThrottlingException', operation: 'DescribeProductAsAdmin' });
    const afterThrottle = await client.send(new DescribeProductAsAdminCommand({ Id: productId }));
    expect(afterThrottle.ProductViewDetail?.ProductViewSummary?.ProductId).toBe(productId);
    expect(afterThrottle.$metadata.attempts).toBe(2);

    expect(emulator.requests().map((r) => [r.operation, r.httpStatus, r.errorCode ?? null, r.faultInjected])).toEqual([
      ['ListProvisioningArtifacts', 500, 'InternalFailure', true],
      ['ListProvisioningArtifacts', 500, 'InternalFailure', true],
      ['ListProvisioningArtifacts', 200, null, false],
      ['DescribeProductAsAdmin', 400, 'ThrottlingException', true],
      ['DescribeProductAsAdmin', 200, null, false],
    ]);
    expect(emulator.stats().faultsInjected).toBe(3);
  });

  it('surfaces the fault when the SDK runs out of attempts', async () => {
    const { emulator, client } = await setup({}, 1);
    emulator.injectFaults({ kind: 'InternalFailure' }, { kind: 'ThrottlingException' });
    const internal = await rejection(client.send(new ListProvisioningArtifactsCommand({ ProductId: 'prod-x' })));
    expect(internal.name).toBe('InternalFailure');
    expect(internal.$fault).toBe('server');
    expect(internal.$metadata.httpStatusCode).toBe(500);
    const throttled = await rejection(client.send(new ListProvisioningArtifactsCommand({ ProductId: 'prod-x' })));
    expect(throttled.name).toBe('ThrottlingException');
    expect(throttled.$metadata.httpStatusCode).toBe(400);
  });

  it('applies the configured fault rates', async () => {
    const draws = [0.05, 0.15, 0.5, 0.05, 0.5];
    const { emulator, client } = await setup({
      internalFailureRate: 0.1,
      throttlingRate: 0.1,
      random: () => draws.shift() ?? 1,
    });
    const { productId } = await seedWebProduct(emulator);
    const first = await client.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));
    expect(first.$metadata.attempts).toBe(3); // 500, throttled, then through
    const second = await client.send(new ListProvisioningArtifactsCommand({ ProductId: productId }));
    expect(second.$metadata.attempts).toBe(2);
    expect(emulator.requests().map((r) => r.errorCode ?? 'ok')).toEqual([
      'InternalFailure',
      'ThrottlingException',
      'ok',
      'InternalFailure',
      'ok',
    ]);
    expect(() => emulator.configure({ throttlingRate: 1.5 })).toThrow(RangeError);
  });

  it('creates one version when the first answer is lost and the SDK retries with the same token', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/lost-answer.yaml', yamlTemplate('t3.small'));
    emulator.injectFaults({ kind: 'InternalFailure', operation: 'CreateProvisioningArtifact', afterProcessing: true });

    const { IdempotencyToken: _token, ...withoutToken } = createInput(productId, url);
    const created = await client.send(new CreateProvisioningArtifactCommand(withoutToken));
    expect(created.$metadata.attempts).toBe(2);
    expect(emulator.listArtifacts(productId)).toHaveLength(2);
    expect(emulator.listArtifacts(productId)[1]?.id).toBe(created.ProvisioningArtifactDetail?.Id);
    expect(emulator.stats()).toMatchObject({
      createProvisioningArtifactCalls: 2,
      provisioningArtifactsCreated: 1,
      idempotentReplays: 1,
      faultsInjected: 1,
    });
  });
});

describe('Service Catalog emulator: seeding and reset', () => {
  it('seeds versions from template text, served back by the emulator', async () => {
    const { emulator, client } = await setup();
    const seeded = await emulator.seedProduct({
      name: 'inline',
      artifact: { name: 'v1', templateBody: jsonTemplate('t3.micro'), status: 'CREATING' },
    });
    expect(seeded.templateUrl).toBe(`${emulator.url}/_emulator/templates/${seeded.provisioningArtifactId}`);
    expect(await (await fetch(seeded.templateUrl)).text()).toBe(jsonTemplate('t3.micro'));
    expect(emulator.getArtifact(seeded.provisioningArtifactId)?.status).toBe('CREATING');
    emulator.settleArtifact(seeded.provisioningArtifactId, 'FAILED');
    const described = await client.send(
      new DescribeProvisioningArtifactCommand({
        ProductId: seeded.productId,
        ProvisioningArtifactId: seeded.provisioningArtifactId,
      }),
    );
    expect(described.Status).toBe('FAILED');

    await expect(emulator.seedProduct({ name: 'broken', artifact: { templateBody: 'Resources: {}' } })).rejects.toThrow(
      /At least one Resources member/,
    );
  });

  it('forgets resources, tokens, counters and queued faults on reset', async () => {
    const { emulator, client } = await setup();
    const { productId } = await seedWebProduct(emulator);
    const url = host.put('/reset.yaml', yamlTemplate('t3.small'));
    await client.send(new CreateProvisioningArtifactCommand(createInput(productId, url)));
    emulator.injectFaults({ kind: 'InternalFailure' });
    emulator.failNextArtifactCreations(2);

    emulator.reset();
    expect(emulator.state()).toEqual({
      products: [],
      provisioningArtifacts: [],
      provisionedProducts: [],
      stats: {
        requests: 0,
        requestsByOperation: {},
        faultsInjected: 0,
        createProvisioningArtifactCalls: 0,
        provisioningArtifactsCreated: 0,
        idempotentReplays: 0,
      },
      pendingFaults: 0,
      pendingCreationFailures: 0,
    });
    // The token is free again: the same request now creates a version for the new product.
    const fresh = await seedWebProduct(emulator);
    const created = await client.send(new CreateProvisioningArtifactCommand(createInput(fresh.productId, url)));
    expect(created.$metadata.attempts).toBe(1);
    expect(emulator.listArtifacts(fresh.productId)).toHaveLength(2);
  });
});
